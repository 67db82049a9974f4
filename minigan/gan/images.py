"""Pictures of samples: a batch of images tiled into one grid, written atomically.

Everything here works on NumPy arrays on the host (pass ``mg.asnumpy(x)`` for GPU arrays).

Render kinds for a grid (:func:`grid_image`):
    "gray"     one channel, black = low end of ``value_range``, white = high end
    "rgb"      three channels
    "heatmap"  one channel through a matplotlib colormap (the Julia-set GAN's look)
"""
import math
import os

import numpy as np

from ..files.atomic import atomic_write

__all__ = ["grid_image", "save_grid", "save_image", "image_format", "RENDERS"]

RENDERS = ("gray", "rgb", "heatmap")


def _as_images(images):
    """(N, C, H, W) float array from (N, C, H, W), (N, H, W) or (N, F) (F shown as 1×F)."""
    a = np.asarray(images, dtype=np.float32)
    if a.ndim == 2:
        a = a[:, None, None, :]
    elif a.ndim == 3:
        a = a[:, None]
    if a.ndim != 4 or len(a) == 0:
        raise ValueError(f"expected images of shape (N, C, H, W), got {np.shape(images)}")
    return a


def grid_image(images, nrow=None, value_range=(-1.0, 1.0), render="gray", pad=2, scale=1,
               cmap="inferno", pad_value=0.5):
    """Tile images into one uint8 picture: (H', W') for "gray", (H', W', 3) otherwise.

    images: (N, C, H, W) with values in ``value_range`` (clipped). nrow: images per row
    (torchvision's meaning; default ceil(√N)). ``pad`` pixels between tiles, of brightness
    ``pad_value`` (0..1; black for heatmaps); each pixel becomes a ``scale`` × ``scale`` block.
    """
    if render not in RENDERS:
        raise ValueError(f"render must be one of {RENDERS}, got {render!r}")
    a = _as_images(images)
    n, c, h, w = a.shape
    lo, hi = float(value_range[0]), float(value_range[1])
    t = np.clip((a - lo) / (hi - lo), 0.0, 1.0)                       # (N, C, H, W) in [0, 1]
    if render == "rgb":
        if c == 1:
            t = np.repeat(t, 3, axis=1)
        elif c != 3:
            raise ValueError(f"render='rgb' needs 1 or 3 channels, got {c}")
    elif c != 1:
        raise ValueError(f"render={render!r} needs 1 channel, got {c} (use render='rgb')")
    ncol = nrow or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncol)
    ch = t.shape[1]
    grid = np.full((nrows * (h + pad) + pad, ncol * (w + pad) + pad, ch), pad_value, dtype=np.float32)
    inside = np.zeros(grid.shape[:2], dtype=bool)                    # False on the padding
    for k in range(n):
        r, col = divmod(k, ncol)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[top:top + h, left:left + w] = t[k].transpose(1, 2, 0)
        inside[top:top + h, left:left + w] = True
    if render == "heatmap":
        import matplotlib
        out = matplotlib.colormaps[cmap](grid[..., 0], bytes=True)[..., :3]
        out[~inside] = 0                                             # padding stays black
    else:
        out = (grid * 255.0 + 0.5).astype(np.uint8)
        if render == "gray":
            out = out[..., 0]
    if scale > 1:
        out = np.repeat(np.repeat(out, scale, axis=0), scale, axis=1)
    return np.ascontiguousarray(out)


def image_format(path):
    """Pillow's name for the format that ``path``'s extension asks for ("PNG" for ``.png``); a
    ValueError for a name without an image extension Pillow knows."""
    from PIL import Image
    ext = os.path.splitext(os.fspath(path))[1].lower()
    fmt = Image.registered_extensions().get(ext)
    if fmt is None:
        raise ValueError(f"cannot tell an image format from the name {os.fspath(path)!r} "
                         f"(expected an extension such as .png)")
    return fmt


def save_image(pixels, path):
    """Write a uint8 (H, W) or (H, W, 3) array as a PNG (or the format of the name's extension),
    atomically (:func:`~minigan.files.atomic.atomic_write`): a run killed mid-write leaves the
    old file or none under ``path``, never a truncated image (which the resumed run's
    progress.gif could not read); a failed write leaves ``path`` as it was."""
    fmt = image_format(path)
    from PIL import Image
    image = Image.fromarray(pixels)
    atomic_write(path, lambda f: image.save(f, format=fmt))
    return path


def save_grid(images, path, nrow=None, value_range=(-1.0, 1.0), render="gray", pad=2, scale=1,
              cmap="inferno", pad_value=0.5):
    """:func:`grid_image` written to ``path``; returns ``path``."""
    return save_image(grid_image(images, nrow, value_range, render, pad, scale, cmap, pad_value),
                      path)
