"""The MNIST classifier behind the evaluation metrics: a small LeNet-style CNN, trained by
minigan itself. One trained network ships with the package (``mnist_cnn.npz``, recipe and
checksum in ``CLASSIFIER.md``), as FID ships one Inception network: every user's Fréchet
distances come from the same weights. Retraining is possible and is reported as a
non-standard network.

Architecture (PyTorch names in ``state_dict``; shapes for one 28×28 digit):

    features:  Conv2d(1, 16, 5, padding=2) → ReLU → MaxPool2d(2)       16×14×14
               Conv2d(16, 32, 5, padding=2) → ReLU → MaxPool2d(2)      32×7×7
               Flatten → Linear(1568, 128) → ReLU                      128 (penultimate features)
    head:      Dropout(0.3) → Linear(128, 10)                          10 logits

Inputs are digits in [0, 1] (white on black, as in MNIST), normalised inside
:func:`prepare_images` with MNIST's mean and standard deviation. Training code is in
``train_classifier.py``; a retrained network goes to :func:`default_classifier_path`.
"""
import hashlib
import os
import zipfile
import tempfile

import numpy as np

from .. import nn
from ..backend import asnumpy, to_device
from ..data import default_data_dir
from ..nn.cross_entropy import softmax

ARCHITECTURE = "lenet-16-32-128-v1"  # stored in the cache; a mismatch means "retrain"
NUM_CLASSES = 10
FEATURE_DIM = 128
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
VALUE_RANGES = {"tanh": (-1.0, 1.0), "unit": (0.0, 1.0)}
# The standard network: trained once by `python -m minigan.eval.train_classifier --seed 0`
# on the offline digits (CLASSIFIER.md); its SHA-256 names it in every report.
SHIPPED_CLASSIFIER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist_cnn.npz")
SHIPPED_SHA256 = "92beefaed8f590b9ae919209df84397f98baa315969ca4f55b21d87335078f30"


class MNISTClassifier(nn.Module):
    """logits = head(features(x)); ``features`` are the 128 penultimate activations."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, FEATURE_DIM), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(FEATURE_DIM, NUM_CLASSES))

    def forward(self, x):
        """x (N, 1, 28, 28) normalised digits -> logits (N, 10)."""
        return self.head(self.features(x))

    def backward(self, grad_output, need_input_grad=True):
        """dlogits (N, 10) -> adds every parameter gradient; returns dx (None with
        ``need_input_grad=False``, as in training)."""
        return self.features.backward(self.head.backward(grad_output),
                                      need_input_grad=need_input_grad)

    def predict(self, images, value_range="unit", batch_size=500):
        """Class probabilities (N, 10) and penultimate features (N, 128), as float64 NumPy
        arrays, for ``images`` in ``value_range`` (see :func:`prepare_images`); eval mode,
        in batches; the module's train/eval mode is restored afterwards."""
        x = prepare_images(images, value_range)
        was_training = self.training
        self.eval()
        device = self.device
        probs, feats = [], []
        try:
            for start in range(0, len(x), batch_size):
                batch = to_device(x[start:start + batch_size], device)
                f = self.features(batch)
                logits = self.head(f)
                feats.append(asnumpy(f).astype(np.float64))
                probs.append(asnumpy(softmax(logits.astype(np.float64))))
        finally:
            self.train(was_training)
        if not probs:
            return np.zeros((0, NUM_CLASSES)), np.zeros((0, FEATURE_DIM))
        return np.concatenate(probs), np.concatenate(feats)


def prepare_images(images, value_range="unit"):
    """Digits -> the classifier's input: float32 (N, 1, 28, 28), MNIST-normalised.

    ``images``: (N, 28, 28) or (N, 1, 28, 28), NumPy or CuPy.
      * uint8 arrays are read as 0..255 (``value_range`` is ignored);
      * float arrays are read in ``value_range``: ``"tanh"`` for [−1, 1] (a generator ending
        in Tanh, minigan's default), ``"unit"`` for [0, 1] (e.g. after a Sigmoid), or any
        ``(low, high)`` pair (black = low, white = high).
    Values outside the range by more than 5% of its width raise an error (likely a wrong
    ``value_range``); smaller excursions are clipped. NaN or inf values raise an error.
    """
    lo, hi = value_bounds(value_range)
    x = asnumpy(images)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(f"expected digits of shape (N, 28, 28) or (N, 1, 28, 28), got {x.shape}")
    if x.dtype == np.uint8:
        unit = x.astype(np.float32) / 255
    elif x.dtype.kind == "f":
        bad = ~np.isfinite(x).reshape(len(x), -1).all(axis=1)
        if bad.any():
            raise ValueError(f"{int(bad.sum()):,} of the {len(x):,} images hold NaN or inf values "
                             f"(a generator that diverged?); they cannot be scored")
        slack = 0.05 * (hi - lo)
        if x.size and (float(x.min()) < lo - slack or float(x.max()) > hi + slack):
            hint = ("; pass value_range='tanh' if the images are in [-1, 1]"
                    if (lo, hi) == (0.0, 1.0) else "")
            raise ValueError(f"images have values in [{float(x.min()):.3g}, "
                             f"{float(x.max()):.3g}], outside the declared value_range "
                             f"{value_range!r} = [{lo:g}, {hi:g}]" + hint)
        unit = np.clip((x.astype(np.float32) - lo) / (hi - lo), 0, 1)
    else:
        raise TypeError(f"images must be uint8 or floating point, got dtype {x.dtype}")
    return ((unit - MNIST_MEAN) / MNIST_STD).astype(np.float32)[:, None]


def value_bounds(value_range):
    """(low, high) for "tanh", "unit" or a (low, high) pair."""
    if isinstance(value_range, str):
        if value_range not in VALUE_RANGES:
            raise ValueError(f"value_range must be one of {sorted(VALUE_RANGES)} or a (low, high) "
                             f"pair, got {value_range!r}")
        return VALUE_RANGES[value_range]
    lo, hi = (float(v) for v in value_range)
    if not hi > lo:
        raise ValueError(f"value_range (low, high) needs high > low, got {value_range!r}")
    return lo, hi


def default_classifier_path():
    """Where the trained weights are cached:
    ``$MINIGAN_CACHE/classifier/mnist_cnn.npz`` when $MINIGAN_CACHE is set, else
    ``<data dir>/classifier/mnist_cnn.npz`` with minigan's data dir ($MINIGAN_DATA, else
    $XDG_CACHE_HOME/minigan, else ~/.cache/minigan)."""
    root = os.environ.get("MINIGAN_CACHE")
    if not root:
        root = default_data_dir()
    return os.path.join(os.path.expanduser(root), "classifier", "mnist_cnn.npz")


def save_classifier(model, path, **meta):
    """Write the weights and ``meta`` (arrays or scalars, e.g. reference feature statistics,
    accuracy) to ``path`` atomically: a temp file in the same folder, then ``os.replace``,
    so a reader never sees half a file and concurrent trainings cannot corrupt it."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    arrays = {f"state/{k}": asnumpy(v) for k, v in model.state_dict().items()}
    arrays.update({f"meta/{k}": np.asarray(v) for k, v in meta.items()})
    arrays["meta/architecture"] = np.asarray(ARCHITECTURE)
    fd, tmp = tempfile.mkstemp(prefix=".mnist_cnn-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def read_classifier(path, device="cpu"):
    """(model in eval mode, meta dict) from a file written by :func:`save_classifier`.

    Raises ValueError naming the file if it is not such a file (not an .npz, damaged, pickled
    members) or holds another architecture (the cache is then stale)."""
    expected = "classifier weights (an .npz written by python -m minigan.eval --retrain)"
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"PK\x03\x04":          # the zip magic every .npz starts with
                raise ValueError("not an .npz archive")
        with np.load(path, allow_pickle=False) as data:
            meta = {k[5:]: data[k] for k in data.files if k.startswith("meta/")}
            state = {k[6:]: data[k] for k in data.files if k.startswith("state/")}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        why = "a member holds pickled objects" if "pickle" in str(e) else str(e) or type(e).__name__
        raise ValueError(f"{path}: not {expected}: {why}") from None
    arch = str(meta.get("architecture", "?"))
    if arch != ARCHITECTURE:
        raise ValueError(f"{path}: classifier architecture {arch!r}, expected {ARCHITECTURE!r} "
                         f"(not {expected}?)")
    model = MNISTClassifier()
    try:
        model.load_state_dict(state)
    except (KeyError, ValueError) as e:
        raise ValueError(f"{path}: damaged {expected}: {e}") from None
    model.to(device).eval()
    meta = {k: (v.item() if v.ndim == 0 else v) for k, v in meta.items()}
    return model, meta


def file_sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def load_classifier(path=None, device="cpu"):
    """(model, meta) of the evaluation classifier, read from ``path`` — by default the
    standard network shipped with minigan (checked against SHIPPED_SHA256). The file is only
    read: a missing one is an error, never created. ``meta`` says which weights these are
    (:func:`identify_classifier`)."""
    if path is None:
        path = SHIPPED_CLASSIFIER
        if not os.path.isfile(path) or file_sha256(path) != SHIPPED_SHA256:
            raise FileNotFoundError(f"the standard classifier {path} is missing or damaged "
                                    f"(checksum mismatch): reinstall minigan")
    elif not os.path.isfile(path):
        raise FileNotFoundError(f"no classifier weights at {path} (omit the path to use the "
                                f"standard network shipped with minigan)")
    model, meta = read_classifier(path, device)
    return model, identify_classifier(meta, path)


def identify_classifier(meta, path):
    """``meta`` plus ``sha256`` and ``path`` of the weights file, and ``standard``: whether they
    are the network shipped with minigan."""
    meta["sha256"] = file_sha256(path)
    meta["standard"] = meta["sha256"] == SHIPPED_SHA256
    meta["path"] = path
    return meta


def describe_classifier(meta):
    """One line naming the network that produced a set of scores."""
    acc = meta.get("test_accuracy")
    acc = f", held-out accuracy {acc:.2%}" if acc is not None else ""
    if meta.get("standard"):
        return f"classifier: the standard network shipped with minigan (sha256 {meta['sha256'][:12]}{acc})"
    return (f"classifier: NON-STANDARD network {meta.get('path')} (sha256 "
            f"{str(meta.get('sha256'))[:12]}{acc}): compare its Fréchet distances only with "
            f"scores from the same file")


__all__ = ["MNISTClassifier", "prepare_images", "default_classifier_path", "save_classifier",
           "read_classifier", "load_classifier", "describe_classifier", "file_sha256",
           "identify_classifier",
           "ARCHITECTURE", "FEATURE_DIM", "NUM_CLASSES", "VALUE_RANGES", "value_bounds",
           "SHIPPED_CLASSIFIER", "SHIPPED_SHA256"]
