"""What each training step trains on: the real batch (the epoch's data order, or fresh samples
from a sampler), the noise z and D's targets — all drawn from the trainer's own random stream.

In a data-parallel run every process draws the whole global batch's order, noise and targets
(the same numbers, from the shared seed) and keeps its own rows (``parallel.shard``), so a run
does not depend on the number of processes.
"""
import numpy as np

from ..backend import get_array_module, to_device


class Batches:
    """GANTrainer's part that draws the inputs of a step."""

    def _noise(self, gen, n):
        cfg = self.config
        if cfg.noise == "normal":
            z = gen.standard_normal((n, cfg.z_dim), dtype=np.float32)
        elif cfg.noise == "uniform":
            z = gen.random((n, cfg.z_dim), dtype=np.float32)
        else:
            z = np.ones((n, cfg.z_dim), dtype=np.float32)
        return z

    def sample_noise(self, n):
        """n noise vectors from the trainer's stream, on the trainer's device."""
        return to_device(self._noise(self.rng, n).astype(self.dtype, copy=False), self.device)

    def make_labels(self, n):
        """Targets for D's real and fake batches, (n, 1) each (soft and/or flipped per config)."""
        cfg = self.config

        def draw(lo_hi):
            lo, hi = lo_hi
            if lo == hi:
                return np.full((n, 1), lo, dtype=np.float32)
            return self.rng.uniform(lo, hi, (n, 1)).astype(np.float32)

        t_real, t_fake = draw(cfg.real_label), draw(cfg.fake_label)
        if cfg.flip_prob > 0:
            flip = self.rng.random((n, 1)) < cfg.flip_prob
            t_real, t_fake = np.where(flip, t_fake, t_real), np.where(flip, t_real, t_fake)
        return to_device(t_real, self.device), to_device(t_fake, self.device)

    def _real_batch(self, pos):
        """This process's rows of step ``pos``'s real batch (all of it in a single process)."""
        B = self.config.batch_size
        if self.data is None:
            real = self.parallel.shard(self.real_sampler(self.rng, B))
        else:
            idx = self.parallel.shard(self.perm[pos * B:(pos + 1) * B])
            xp = get_array_module(self.data)
            real = self.data[xp.asarray(idx)] if xp is not np else self.data[idx]
        if self.transform is not None:
            real = self.transform(real)
        real = to_device(real, self.device)
        return real if real.dtype == self.dtype else real.astype(self.dtype)
