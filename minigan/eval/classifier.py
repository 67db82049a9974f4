"""The MNIST classifier behind the evaluation metrics: a small LeNet-style CNN, trained by
minigan itself, cached per user.

Architecture (PyTorch names in ``state_dict``; shapes for one 28×28 digit):

    features:  Conv2d(1, 16, 5, padding=2) → ReLU → MaxPool2d(2)       16×14×14
               Conv2d(16, 32, 5, padding=2) → ReLU → MaxPool2d(2)      32×7×7
               Flatten → Linear(1568, 128) → ReLU                      128 (penultimate features)
    head:      Dropout(0.3) → Linear(128, 10)                          10 logits

Inputs are digits in [0, 1] (white on black, as in MNIST), normalised inside
:func:`prepare_images` with MNIST's mean and standard deviation. Training code is in
``train_classifier.py``; the weights are cached in :func:`default_classifier_path`.
"""
import os
import tempfile
import warnings

import numpy as np

from .. import nn
from ..backend import asnumpy, to_device
from ..nn.cross_entropy import softmax

ARCHITECTURE = "lenet-16-32-128-v1"  # stored in the cache; a mismatch means "retrain"
NUM_CLASSES = 10
FEATURE_DIM = 128
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
VALUE_RANGES = {"tanh": (-1.0, 1.0), "unit": (0.0, 1.0)}


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

    def backward(self, grad_output, need_input_grad=False):
        """dlogits (N, 10) -> adds every parameter gradient; dx only if asked (training
        never needs it)."""
        return self.features.backward(self.head.backward(grad_output),
                                      need_input_grad=need_input_grad)

    can_skip_input_grad = True

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
    ``value_range``); smaller excursions are clipped.
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
        from ..data import default_data_dir
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

    Raises ValueError if it holds another architecture (the cache is then stale)."""
    with np.load(path, allow_pickle=False) as data:
        meta = {k[5:]: data[k] for k in data.files if k.startswith("meta/")}
        state = {k[6:]: data[k] for k in data.files if k.startswith("state/")}
    arch = str(meta.get("architecture", "?"))
    if arch != ARCHITECTURE:
        raise ValueError(f"{path}: classifier architecture {arch!r}, expected {ARCHITECTURE!r}")
    model = MNISTClassifier()
    model.load_state_dict(state)
    model.to(device).eval()
    meta = {k: (v.item() if v.ndim == 0 else v) for k, v in meta.items()}
    return model, meta


def load_classifier(path=None, device="cpu", train_if_missing=True, verbose=True, **train_kw):
    """The cached classifier (model, meta); trains and caches it first when the file is
    missing or stale (another architecture, or trained on the offline 5,000 digits while
    the full MNIST files are now present). ``train_kw`` go to ``train_and_cache``."""
    path = path or default_classifier_path()
    if os.path.exists(path):
        try:
            model, meta = read_classifier(path, device)
            stale = (meta.get("data") == "offline-5k"
                     and _full_mnist_present(train_kw.get("data_dir")))
            if not stale:
                return model, meta
            reason = "it was trained on the offline 5,000 digits and the full MNIST is now present"
        except (ValueError, OSError, KeyError) as e:
            reason = f"the cache is unusable ({e})"
        if not train_if_missing:
            raise FileNotFoundError(f"classifier cache {path} needs retraining: {reason}")
        if verbose:
            print(f"minigan.eval: retraining the classifier: {reason}")
    elif not train_if_missing:
        raise FileNotFoundError(f"no trained classifier at {path}: run python -m "
                                f"minigan.eval.train_classifier")
    elif verbose:
        print(f"minigan.eval: no classifier cached at {path}; training one (once, ~1-2 min)")
    from .train_classifier import train_and_cache
    return train_and_cache(path=path, device=device, verbose=verbose, **train_kw)


def _full_mnist_present(data_dir=None):
    """True when the full MNIST IDX files are on disk (no download attempted)."""
    from ..data import DatasetNotFoundError, load_mnist
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for split in ("train", "test"):
                load_mnist(split, root=data_dir, download=False, offline_fallback=False)
        return True
    except (DatasetNotFoundError, ValueError, OSError):
        return False


__all__ = ["MNISTClassifier", "prepare_images", "default_classifier_path", "save_classifier",
           "read_classifier", "load_classifier", "ARCHITECTURE", "FEATURE_DIM", "NUM_CLASSES",
           "VALUE_RANGES", "value_bounds"]
