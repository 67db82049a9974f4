"""Latent walks as GIFs, and rebuilding a trained generator from a checkpoint."""
import math

import numpy as np

from .. import backend
from ..files.checkpoint import generator_weights, load_checkpoint, read_meta
from .images import grid_image, save_image
from .latent import latent_walk
from .models import build_model
from .plots import save_gif
from .run_config import check_run_config

__all__ = ["save_latent_walk", "generator_from_checkpoint", "make_generate"]


def make_generate(G, device="cpu", batch=256):
    """``generate(z)``: G in eval mode on noise z (n, z_dim) -> NumPy images."""
    def generate(z):
        G.eval()
        outs = [backend.asnumpy(G(backend.to_device(np.asarray(z[i:i + batch], np.float32), device)))
                for i in range(0, len(z), batch)]
        return np.concatenate(outs)
    return generate


def save_latent_walk(generate, z_dim, path, *, value_range=(-1.0, 1.0), render="gray",
                     image_shape=None, noise="normal", walks=16, points=4, steps=12, seed=0,
                     scale=1, frame_ms=80, strip_path=None):
    """Render :func:`~minigan.gan.latent.latent_walk` as a looping GIF at ``path`` (each frame
    a grid of the ``walks`` walks) and, with ``strip_path``, a PNG of the first walk's frames in a
    row. Returns the paths written."""
    def gen(z):
        out = generate(z)
        return out.reshape((len(out),) + tuple(image_shape)) if image_shape else out

    frames = latent_walk(gen, z_dim, walks=walks, points=points, steps=steps, seed=seed,
                         noise=noise)                                    # (T, walks, C, H, W)
    nrow = math.ceil(math.sqrt(walks))
    pictures = [grid_image(f, nrow=nrow, value_range=value_range, render=render, scale=scale)
                for f in frames]
    written = [save_gif(pictures, path, duration_ms=frame_ms)]
    if strip_path:
        take = frames[::max(1, steps // 4), 0]                           # 4 frames per leg
        written.append(save_image(grid_image(take, nrow=len(take), value_range=value_range,
                                             render=render, scale=scale), strip_path))
    return written


def generator_from_checkpoint(path, device="cpu"):
    """(G, config, meta): the generator of a checkpoint, rebuilt from the builder named in its
    config (checked first: builder, settings, image shape and range), with the saved weights,
    in eval mode on ``device``. Only the generator's members are read, each checked against
    the rebuilt generator's shapes before its data; a KeyError or ValueError names the file."""
    meta = read_meta(path)
    config = meta.get("config", {})
    if not isinstance(config, dict) or not config.get("generator"):
        raise ValueError(f"{path}: the checkpoint does not say how to build its generator")
    check_run_config(config, path, roles=("generator",))
    G = build_model(config["generator"])
    shapes = {f"{prefix}/{k}": tuple(v.shape) for prefix in ("G", "G_ema")
              for k, v in G.state_dict().items()}
    arrays, meta = load_checkpoint(path, prefixes=("G", "G_ema"), expected=shapes)
    G.load_state_dict(generator_weights(arrays))              # the averaged one, with --ema
    return G.to(device).eval(), config, meta
