"""Pixel scaling between uint8 images and the float32 ranges generators produce, and PNG output.

    tanh range:  x = p / 127.5 - 1    (p in 0..255  ->  x in [-1, 1])
    unit range:  x = p / 255          (p in 0..255  ->  x in [0, 1])

The scaling helpers work on NumPy and CuPy arrays alike (they only use array methods).
"""
import os

import numpy as np

__all__ = ["scale_to_tanh_range", "scale_to_unit_range", "to_uint8", "save_grayscale_pngs"]


def scale_to_tanh_range(images):
    """uint8 pixels 0..255 -> float32 in [-1, 1] (for tanh generators): p / 127.5 - 1."""
    return images.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


def scale_to_unit_range(images):
    """uint8 pixels 0..255 -> float32 in [0, 1] (for sigmoid generators): p / 255."""
    return images.astype(np.float32) / np.float32(255.0)


def to_uint8(images, value_range=(-1.0, 1.0)):
    """Float images in ``value_range`` -> uint8 0..255 (clipped, rounded), e.g. for PNGs."""
    lo, hi = value_range
    scaled = (images.astype(np.float32) - np.float32(lo)) * np.float32(255.0 / (hi - lo))
    return (scaled.clip(0, 255) + np.float32(0.5)).astype(np.uint8)


def save_grayscale_pngs(images, folder, prefix="img", start=0):
    """Write each uint8 (H, W) image of ``images`` (N, H, W) as an 8-bit grayscale PNG
    ``folder/{prefix}_{index:05d}.png``; returns the list of paths."""
    from PIL import Image  # imported here: only PNG output needs Pillow

    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"expected uint8 images of shape (N, H, W), got {images.dtype} "
                         f"{images.shape}")
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, img in enumerate(images, start=start):
        path = os.path.join(folder, f"{prefix}_{i:05d}.png")
        Image.fromarray(img).save(path)  # uint8 2-D -> mode "L"
        paths.append(path)
    return paths
