"""Training plots (matplotlib's Agg canvas, no display needed: minigan.files.figures) and GIFs
(Pillow)."""
import os

import numpy as np

from ..files.atomic import atomic_write
from ..files.figures import new_figure, save_figure

__all__ = ["plot_losses", "save_gif", "moving_average"]


def moving_average(values, window):
    """Trailing mean over ``window`` values (shorter at the start), same length as ``values``."""
    v = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(v) == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def _column(rows, key):
    return np.array([float(r[key]) if r.get(key, "") not in ("", None) else np.nan for r in rows])


def plot_losses(rows, path, title=None, epoch_rows=None):
    """The training curves of a GAN, from the trainer's step rows (dicts with ``step``,
    ``loss_D``, ``loss_G``, ``D_x``, ``D_G_z``):

    top: loss_D and loss_G per step (faint) and their moving averages;
    bottom: mean D(x) and D(G(z)) as probabilities — 0.5 each is the equilibrium where D
    cannot tell real from fake. Epoch boundaries (from ``epoch_rows``) are dotted lines.
    """
    steps = _column(rows, "step")
    fig = new_figure(10, 6.5)
    ax1, ax2 = fig.add_subplot(2, 1, 1), fig.add_subplot(2, 1, 2, sharex=None)
    window = max(1, len(rows) // 50)
    for key, label, color in (("loss_D", "loss D (real + fake)", "tab:blue"),
                              ("loss_G", "loss G (non-saturating)", "tab:orange")):
        y = _column(rows, key)
        if len(y):
            ax1.plot(steps, y, color=color, alpha=0.25, linewidth=0.8)
            ax1.plot(steps, moving_average(y, window), color=color, label=label, linewidth=1.6)
    ax1.set_ylabel("loss")
    ax1.legend(loc="upper right")
    ax1.grid(alpha=0.3)
    for key, label, color in (("D_x", "D(x): real images", "tab:green"),
                              ("D_G_z", "D(G(z)): generated images", "tab:red")):
        y = _column(rows, key)
        if len(y):
            ax2.plot(steps, y, color=color, alpha=0.25, linewidth=0.8)
            ax2.plot(steps, moving_average(y, window), color=color, label=label, linewidth=1.6)
    ax2.axhline(0.5, color="gray", linestyle="--", linewidth=0.8)
    ax2.set_ylabel("mean D output")
    ax2.set_xlabel("step")
    ax2.legend(loc="upper right")
    ax2.grid(alpha=0.3)
    for er in epoch_rows or []:
        for ax in (ax1, ax2):
            ax.axvline(float(er["step"]), color="gray", linestyle=":", linewidth=0.6)
    if title:
        ax1.set_title(title)
    return save_figure(fig, path)


GIF_MAX_FRAME_MS = 65535 * 10          # a frame's delay: 16 bits of 1/100 s


def save_gif(frames, path, duration_ms=300, loop=0, last_frame_ms=None):
    """Write an animated GIF of ``frames`` (image paths or uint8 arrays, all the same size),
    atomically (a kill mid-write leaves the old GIF or none, never a truncated one).

    ``duration_ms`` per frame; ``last_frame_ms`` holds the final frame longer (each at most
    655,350 ms: a GIF stores a frame's delay in 1/100 s as a 16-bit number); ``loop=0`` loops
    forever. Returns ``path``, or None when there are no frames.
    """
    from PIL import Image
    for name, ms in (("duration_ms", duration_ms), ("last_frame_ms", last_frame_ms)):
        if ms is not None and not 0 <= ms <= GIF_MAX_FRAME_MS:
            raise ValueError(f"save_gif: {name} must be 0..{GIF_MAX_FRAME_MS} (a GIF's longest "
                             f"frame delay), got {ms}")
    images = []
    for f in frames:
        im = Image.open(f) if isinstance(f, (str, os.PathLike)) else Image.fromarray(np.asarray(f))
        im.load()
        images.append(im)
    if not images:
        return None
    gray = all(im.mode == "L" for im in images)      # grayscale: one exact gray palette
    images = [im if gray else im.convert("RGB") for im in images]
    size = images[0].size
    images = [im if im.size == size else im.resize(size) for im in images]
    durations = [duration_ms] * len(images)
    if last_frame_ms is not None:
        durations[-1] = last_frame_ms
    palette = images if gray else [im.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
                                   for im in images]
    atomic_write(path, lambda f: palette[0].save(
        f, format="GIF", save_all=True, append_images=palette[1:], duration=durations, loop=loop,
        optimize=False, disposal=1))
    return path
