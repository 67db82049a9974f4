"""Walks through the latent space: spherical interpolation (slerp) between noise vectors, and
looping walks whose frames a generator turns into an animation.

Everything here works on NumPy arrays on the host.
"""
import math

import numpy as np

__all__ = ["slerp", "slerp_path", "latent_walk"]


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
