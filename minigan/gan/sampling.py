"""Sample grids, spherical latent interpolation (slerp) and a sample-diversity measure.

Everything here works on NumPy arrays on the host (pass ``mg.asnumpy(x)`` for GPU arrays).

Render kinds for a grid (:func:`grid_image`):
    "gray"     one channel, black = low end of ``value_range``, white = high end
    "rgb"      three channels
    "heatmap"  one channel through a matplotlib colormap (the Julia-set GAN's look)
"""
import math
import os

import numpy as np

from .checkpoint import atomic_write

__all__ = ["grid_image", "save_grid", "save_image", "slerp", "slerp_path", "latent_walk",
           "mean_pairwise_distance", "RENDERS"]

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
    atomically (:func:`~minigan.gan.checkpoint.atomic_write`): a run killed mid-write leaves the
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


def slerp(z0, z1, t):
    """Spherical linear interpolation between latent vectors z0 and z1 (White, 2016):

        slerp(z0, z1; t) = sin((1 − t)θ)/sin θ · z0 + sin(tθ)/sin θ · z1,
        θ = angle between z0 and z1.

    Gaussian latents concentrate near a sphere, and slerp stays near it where a straight
    line would cut through the low-probability middle. t: a number or an array of T numbers
    (result (T, d)). Falls back to linear interpolation for (nearly) parallel vectors.
    """
    z0 = np.asarray(z0, dtype=np.float64).ravel()
    z1 = np.asarray(z1, dtype=np.float64).ravel()
    if z0.shape != z1.shape:
        raise ValueError(f"slerp: z0 and z1 differ in shape: {z0.shape} vs {z1.shape}")
    t_arr = np.asarray(t, dtype=np.float64)
    tt = t_arr.reshape(-1, 1)
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    cos = np.dot(z0, z1) / max(n0 * n1, 1e-12)
    theta = math.acos(min(1.0, max(-1.0, cos)))
    if abs(math.sin(theta)) < 1e-6:
        out = (1 - tt) * z0 + tt * z1
    else:
        out = (np.sin((1 - tt) * theta) * z0 + np.sin(tt * theta) * z1) / math.sin(theta)
    return out[0] if t_arr.ndim == 0 else out


def slerp_path(points, steps=16, loop=True, spherical=True):
    """A walk through latent ``points`` (K, d): ``steps`` slerp frames from each point to the
    next (back to the first when ``loop``), the end point of a segment being the start of the
    next. Returns (K·steps, d) for a loop, ((K − 1)·steps + 1, d) otherwise.
    ``spherical=False`` interpolates linearly (for uniform noise, which has no sphere)."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or len(points) < 2:
        raise ValueError(f"slerp_path needs at least 2 points of shape (K, d), got {points.shape}")
    pairs = list(zip(points[:-1], points[1:]))
    if loop:
        pairs.append((points[-1], points[0]))
    t = np.arange(steps) / steps
    if spherical:
        frames = [slerp(a, b, t) for a, b in pairs]
    else:
        frames = [(1 - t[:, None]) * a + t[:, None] * b for a, b in pairs]
    if not loop:
        frames.append(points[-1:])
    return np.concatenate(frames, axis=0)


def latent_walk(generate, z_dim, walks=16, points=4, steps=12, seed=0, noise="normal"):
    """Frames of ``walks`` looping latent walks side by side: (T, walks, C, H, W), T = points·steps.

    Each walk visits ``points`` random noise vectors and slerps between them (lerps for
    uniform noise), ``steps`` frames per leg, ending where it started so the animation loops.
    ``generate(z)`` maps noise (n, z_dim) to images (n, C, H, W) as a NumPy array.
    """
    gen = np.random.default_rng(seed)
    if noise == "normal":
        anchors = gen.standard_normal((walks, points, z_dim))
    elif noise == "uniform":
        anchors = gen.random((walks, points, z_dim))
    else:
        raise ValueError(f"latent walks need 'normal' or 'uniform' noise, got {noise!r}")
    paths = np.stack([slerp_path(a, steps, loop=True, spherical=noise == "normal")
                      for a in anchors])                               # (walks, T, z_dim)
    T = paths.shape[1]
    z = paths.transpose(1, 0, 2).reshape(T * walks, z_dim).astype(np.float32)
    images = np.asarray(generate(z))
    return images.reshape((T, walks) + images.shape[1:])


def mean_pairwise_distance(images):
    """Mean over all pairs i < j of the RMS difference √(mean((x_i − x_j)²)) (N ≥ 2).

    A diversity measure: it falls towards 0 when a generator maps different noise vectors to
    (nearly) the same output — the mode collapse of the tutorials.
    """
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    n, d = x.shape
    if n < 2:
        raise ValueError("mean_pairwise_distance needs at least 2 samples")
    sq = (x * x).sum(axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * (x @ x.T), 0.0) / d
    iu = np.triu_indices(n, 1)
    return float(np.sqrt(d2[iu]).mean())
