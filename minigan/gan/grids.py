"""The trainer's samples: the generator in eval mode, fixed-noise grids, their GIF, diversity
checks and exported samples."""
import io
import math
import os
import re

import numpy as np

from ..backend import asnumpy, get_array_module, rng_state, set_rng_state, to_device
from .checkpoint import atomic_write
from .plots import save_gif
from .sampling import mean_pairwise_distance, save_grid

PROGRESS_GIF = "progress.gif"
GRID_DIR = "grids"
LATEST_GRID = "grid_latest.png"
GRID_FILE = r"step_(\d{7})(?:_epoch_(\d+))?\.png"      # a grid's name in GRID_DIR
_GRID_NAME = re.compile(f"^{GRID_FILE}$")


class Samples:
    """GANTrainer's part that samples the generator and writes grids."""

    @property
    def sampling_generator(self):
        """The generator that makes samples: the average of G's weights with ``config.ema``
        (ema.py), else G itself. With ``config.ema_statistics`` the average's BatchNorm
        statistics are first recomputed for its weights, once per step it is used at."""
        if getattr(self, "ema", None) is None:
            return self.G
        n = self.config.ema_statistics
        if n and self.parallel.size == 1 and self.ema.statistics_at != self.ema.updates:
            noise = self._noise(np.random.default_rng([self.config.seed, 98]), n)
            mg_state = rng_state()          # a G with Dropout would draw from minigan's stream
            try:
                self.ema.recompute_statistics(
                    to_device(np.asarray(noise[i:i + 100], dtype=self.dtype), self.device)
                    for i in range(0, n, 100))
            finally:
                set_rng_state(mg_state)
        return self.ema.model

    def generate(self, z, batch=256):
        """G(z) in eval mode (BatchNorm uses its running statistics), as a NumPy array shaped
        (n, *image_shape), from :attr:`sampling_generator`. Leaves the model's mode and every
        random state as they were."""
        G = self.sampling_generator
        was_training = G.training
        G.eval()
        outs = []
        try:
            for i in range(0, len(z), batch):
                zb = np.asarray(z[i:i + batch], dtype=self.dtype)
                outs.append(asnumpy(G(to_device(zb, self.device))).astype(np.float32))
        finally:
            G.train(was_training)
        out = np.concatenate(outs, axis=0)
        if self.image_shape is not None:
            out = out.reshape((len(out),) + self.image_shape)
        return out

    def sample(self, n, seed=None):
        """n samples of the current generator (eval mode) from noise drawn by a generator
        seeded with ``seed`` (default: one derived from the run's seed, so every call gives
        the same noise). Returns float32 (n, *image_shape) in the generator's output range."""
        gen = np.random.default_rng([self.config.seed, 3] if seed is None else seed)
        return self.generate(self._noise(gen, n))

    def _check_diversity(self, imgs):
        """Mean pairwise distance of the fixed-noise samples, fed to the health monitor (not
        for a generator without noise, whose samples are identical by design)."""
        self.diversity = mean_pairwise_distance(imgs)
        if self.config.noise != "ones":
            self.health.check_diversity(self.step, self.diversity)

    _step0_images = None        # a new run's first grid, until its first step has worked

    def _begin_grids(self):
        """A new run: G's samples before any training. They are written only once the first step
        has worked (:meth:`_replace_old_grids`), so a run that fails at once leaves the grids of
        the run that was in the folder before."""
        self._step0_images = self.generate(self.fixed_noise)
        self._check_diversity(self._step0_images)

    def _replace_old_grids(self):
        imgs, self._step0_images = self._step0_images, None
        if self.out_dir is not None:
            self._clear_grids()
        self._write_grid(imgs, 0, epoch_end=False)

    def _save_grid(self, epoch_end):
        imgs = self.generate(self.fixed_noise)
        self._check_diversity(imgs)
        return self._write_grid(imgs, self.step, epoch_end)

    def _write_grid(self, imgs, step, epoch_end):
        if self.out_dir is None or self.render == "none":
            return None
        name = f"step_{step:07d}" + (f"_epoch_{step // self.steps_per_epoch:03d}"
                                      if epoch_end else "") + ".png"
        path = os.path.join(self.out_dir, GRID_DIR, name)
        nrow = self.config.grid_nrow or math.ceil(math.sqrt(len(imgs)))
        save_grid(imgs, path, nrow=nrow, value_range=self.value_range, render=self.render,
                  scale=self.grid_scale)
        save_grid(imgs, self.path(LATEST_GRID), nrow=nrow, value_range=self.value_range,
                  render=self.render, scale=self.grid_scale)
        return path

    def grid_files(self):
        """(step, path) of the grids written so far (up to the current step), in step order."""
        folder = self.path(GRID_DIR)
        if folder is None or not os.path.isdir(folder):
            return []
        found = []
        for name in os.listdir(folder):
            m = _GRID_NAME.match(name)
            if m and int(m.group(1)) <= self.step:
                found.append((int(m.group(1)), os.path.join(folder, name)))
        return sorted(found)

    def _clear_grids(self):
        for _, p in self._all_grid_files():
            os.remove(p)

    def _all_grid_files(self):
        folder = self.path(GRID_DIR)
        if folder is None or not os.path.isdir(folder):
            return []
        return sorted((int(m.group(1)), os.path.join(folder, n)) for n in os.listdir(folder)
                      if (m := _GRID_NAME.match(n)))

    def _diversity_every(self):
        return self.config.diversity_every or max(10, self.steps_per_epoch // 4)

    def _real_diversity(self):
        if self.data is not None:
            gen = np.random.default_rng([self.config.seed, 4])
            idx = gen.choice(self.n_data, size=min(self.config.n_fixed, self.n_data), replace=False)
            xp = get_array_module(self.data)
            batch = self.data[xp.asarray(idx)] if xp is not np else self.data[idx]
        else:
            batch = self.real_sampler(np.random.default_rng([self.config.seed, 4]),
                                      self.config.n_fixed)
        if self.transform is not None:
            batch = self.transform(batch)
        batch = asnumpy(batch)
        return mean_pairwise_distance(batch) if len(batch) > 1 else None

    def make_gif(self, duration_ms=300):
        """progress.gif from the grids written so far."""
        if self.out_dir is None or self.render == "none":
            return None
        frames = [p for _, p in self.grid_files()]
        if not frames:
            return None
        return save_gif(frames, self.path(PROGRESS_GIF), duration_ms=duration_ms,
                        last_frame_ms=1500)

    def export_samples(self, n, path=None, seed=None):
        """Write n samples of the current generator to ``path`` (default OUT/samples.npy):
        float32 (n, C, H, W) in the generator's output range."""
        samples = self.sample(n, seed=[self.config.seed, 5] if seed is None else seed)
        if samples.ndim == 2:
            samples = samples[:, None, None, :]
        path = path or self.path("samples.npy")
        buf = io.BytesIO()
        np.save(buf, samples.astype(np.float32))
        atomic_write(path, lambda f: f.write(buf.getvalue()))
        return path
