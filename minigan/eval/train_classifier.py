"""Train the evaluation classifier with minigan itself, cache it, print held-out accuracy.

    python -m minigan.eval.train_classifier            # (re)train and cache
    python -m minigan.eval.train_classifier --epochs 5 --out my_cnn.npz

Data: ``minigan.data.load_mnist`` — the full MNIST when its files are found or downloadable
(60,000 training / 10,000 test digits), else the 5,000 offline digits (4,500 / 500). The test
split is never trained on; it gives the held-out accuracy.

Training: Adam (lr 1e-3, cosine-decayed to 5e-5), batch 64, softmax cross-entropy, and light
augmentation — each training digit shifted by a random −2..2 pixels in x and y every epoch,
which matters on 4,500 digits. After training, the mean and covariance of the penultimate
features of all real training digits are stored with the weights: they are the reference
of the Fréchet distance (metrics.py).
"""
import argparse
import contextlib
import math
import sys
import time
import warnings

import numpy as np

from .. import nn, optim
from ..backend import cuda_available, fixed_rng, to_device
from ..data import MNISTFallbackWarning, load_mnist
from .classifier import MNISTClassifier, default_classifier_path, prepare_images, save_classifier
from .metrics import feature_statistics, score_predictions

# Epochs when none are given: ~1,700 steps of batch 64 offline (~1 min on 2 cores), 2,800 on
# the full set.
DEFAULT_EPOCHS = {"offline-5k": 24, "full": 3}
REAL_FD_SAMPLES = 1000  # held-out digits scored as the floor (all 500 offline)


def shift_augment(images, max_shift, rng):
    """Each (28, 28) digit moved by its own random (dy, dx) in −max_shift..max_shift,
    filling with black: pad by max_shift, then crop at a per-image offset (one gather)."""
    if max_shift <= 0:
        return images
    n, h, w = images.shape
    padded = np.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    dy, dx = rng.integers(0, 2 * max_shift + 1, (2, n))
    rows = dy[:, None] + np.arange(h)                               # (N, 28)
    cols = dx[:, None] + np.arange(w)                               # (N, 28)
    return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


def accuracy(model, images, labels, batch_size=500):
    """Fraction of ``images`` (uint8 or [0, 1]) whose predicted class equals ``labels``."""
    probs, _ = model.predict(images, "unit", batch_size)
    return float((probs.argmax(axis=1) == np.asarray(labels)).mean())


def train(images, labels, epochs, batch_size=64, lr=1e-3, min_lr=5e-5, max_shift=2, seed=0,
          device="cpu", log=print):
    """A freshly initialised MNISTClassifier trained on uint8 (N, 28, 28) ``images``.

    ``seed`` fixes everything random (initial weights, shuffling, shifts, Dropout masks) in
    generators of its own: minigan's global random state (``mg.seed``) is left as it was, so
    training the classifier in the middle of a GAN run changes nothing there."""
    with contextlib.ExitStack() as stack:
        for dev in {"cpu", device}:          # init draws on the CPU, Dropout on the device
            stack.enter_context(fixed_rng(dev, seed))
        return _train(images, labels, epochs, batch_size, lr, min_lr, max_shift, seed, device, log)


def _train(images, labels, epochs, batch_size, lr, min_lr, max_shift, seed, device, log):
    rng = np.random.default_rng(seed)
    model = MNISTClassifier().to(device).train()
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    n = len(images)
    steps_per_epoch = math.ceil(n / batch_size)
    total, step = epochs * steps_per_epoch, 0
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n)
        shifted = shift_augment(images[order], max_shift, rng)
        x_all, y_all = prepare_images(shifted, "unit"), np.asarray(labels)[order]
        running, correct = 0.0, 0
        for start in range(0, n, batch_size):
            opt.lr = min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * step / total))
            x = to_device(x_all[start:start + batch_size], device)
            y = to_device(y_all[start:start + batch_size], device)
            opt.zero_grad()
            logits = model(x)
            running += loss_fn(logits, y) * len(y)
            correct += int((logits.argmax(axis=1) == y).sum())
            model.backward(loss_fn.backward(), need_input_grad=False)   # digits need no gradient
            opt.step()
            step += 1
        if log:
            log(f"epoch {epoch:2d}/{epochs}  loss {running / n:.4f}  train acc {correct / n:.4f}  "
                f"({time.perf_counter() - t0:.0f} s)")
    return model.eval()


def reference_statistics(model, images):
    """Mean (D,) and covariance (D, D) of the penultimate features of real ``images``."""
    _, features = model.predict(images, "unit")
    return feature_statistics(features)


def load_digits(data_dir=None):
    """(train images, train labels, test images, test labels, data kind) from load_mnist;
    kind is "full" or "offline-5k"."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MNISTFallbackWarning)   # reported below instead
        xtr, ytr, src = load_mnist("train", root=data_dir, return_source=True, progress=True)
        xte, yte, src_te = load_mnist("test", root=data_dir, return_source=True, progress=True)
    kind = "offline-5k" if "offline-5k" in (src.kind, src_te.kind) else "full"
    return xtr, ytr, xte, yte, kind, src


def train_and_cache(path=None, device="cpu", epochs=None, data_dir=None, seed=0, verbose=True,
                    limit=None, batch_size=64):
    """Train on the training split (``limit`` random digits of it, if given), measure held-out
    accuracy on the test split, store weights + reference statistics at ``path``
    (default: the per-user cache). Returns (model, meta)."""
    log = print if verbose else None
    xtr, ytr, xte, yte, kind, source = load_digits(data_dir)
    if limit:
        pick = np.random.default_rng(seed).permutation(len(xtr))[:limit]
        xtr, ytr = xtr[pick], ytr[pick]
    epochs = epochs or DEFAULT_EPOCHS[kind]
    if log:
        log(f"training the MNIST classifier on {len(xtr):,} digits ({source}), {epochs} epochs")
    t0 = time.perf_counter()
    model = train(xtr, ytr, epochs, batch_size=batch_size, seed=seed, device=device, log=log)
    seconds = time.perf_counter() - t0
    acc = accuracy(model, xte, yte)
    mu, sigma = reference_statistics(model, xtr)
    # the floor for generated digits: real held-out digits scored like a generated sample
    floor = score_predictions(*model.predict(xte[:REAL_FD_SAMPLES], "unit"), mu, sigma)
    meta = dict(test_accuracy=acc, data=kind, train_count=len(xtr), test_count=len(xte),
                epochs=epochs, seed=seed, train_seconds=seconds, ref_mu=mu, ref_sigma=sigma,
                ref_count=len(xtr), real_fd=floor.frechet, real_fd_n=floor.n,
                real_inception=floor.inception_score)
    path = save_classifier(model, path or default_classifier_path(), **meta)
    if log:
        log(f"held-out accuracy {acc:.4f} on {len(xte):,} test digits ({kind}); "
            f"trained in {seconds:.0f} s; saved {path}")
        log(f"real held-out digits as a 'generated' sample (the floor): {floor}")
    return model, meta


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m minigan.eval.train_classifier",
                                description="(Re)train the MNIST classifier used by minigan.eval "
                                            "and print its held-out accuracy.")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"default: {DEFAULT_EPOCHS['offline-5k']} on the offline 5,000 digits, "
                        f"{DEFAULT_EPOCHS['full']} on the full MNIST")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None,
                   help="where the MNIST files are (default: the per-user cache)")
    p.add_argument("--limit", type=int, default=None,
                   help="train on this many (random) training digits only, e.g. for a smoke test")
    p.add_argument("--out", default=None,
                   help=f"weights file (default: {default_classifier_path()})")
    args = p.parse_args(argv)
    device = args.device
    if device == "auto":
        device = "cuda" if cuda_available() else "cpu"
    _, meta = train_and_cache(path=args.out, device=device, epochs=args.epochs,
                              data_dir=args.data_dir, seed=args.seed, batch_size=args.batch_size,
                              limit=args.limit)
    print(f"held-out accuracy: {meta['test_accuracy']:.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
