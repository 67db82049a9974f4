"""What each training step trains on: the real batch (the epoch's data order, or fresh samples
from a sampler), the noise z and D's targets — all drawn from the trainer's own random stream.

In a data-parallel run every process draws the whole global batch's order, noise and targets
(the same numbers, from the shared seed) and keeps its own rows (``parallel.shard``), so a run
does not depend on the number of processes.
"""
import numpy as np

from ..backend import get_array_module, to_device

__all__ = ["Batches"]


class Batches:
    """The inputs of every step, and the random stream they come from.

    Real data come either from ``data`` — an array (N, ...) on any device, shuffled each epoch,
    with ``transform`` applied per batch — or from ``real_sampler(rng, n)`` returning n fresh
    samples (then ``config.steps_per_epoch`` is needed). ``rng`` (permutations, z, labels) is
    seeded from ``config.seed`` apart from minigan's own generators; ``perm`` is the epoch's order.
    """

    def __init__(self, config, *, data=None, transform=None, real_sampler=None, device="cpu",
                 dtype=np.float32, parallel):
        if (data is None) == (real_sampler is None):
            raise ValueError("give exactly one of data (an array) or real_sampler (a function)")
        self.config, self.device, self.dtype, self.parallel = config, device, np.dtype(dtype), parallel
        self.data = to_device(data, device) if data is not None else None
        self.transform, self.real_sampler = transform, real_sampler
        B = config.batch_size
        if self.data is not None:
            self.n_data = int(len(self.data))
            spe = config.steps_per_epoch or self.n_data // B
            if spe < 1:
                raise ValueError(f"batch size {B} is larger than the data set ({self.n_data} samples)")
            spe = min(spe, self.n_data // B)
        else:
            self.n_data = None
            if not config.steps_per_epoch:
                raise ValueError("config.steps_per_epoch is needed with a real_sampler")
            spe = config.steps_per_epoch
        self.steps_per_epoch = int(spe)
        self.rng = np.random.default_rng([config.seed, 1])       # SeedSequence spawning
        self.perm = None

    def noise(self, gen, n):
        """n noise vectors (float32, on the host) drawn from the NumPy Generator ``gen``."""
        cfg = self.config
        if cfg.noise == "normal":
            return gen.standard_normal((n, cfg.z_dim), dtype=np.float32)
        if cfg.noise == "uniform":
            return gen.random((n, cfg.z_dim), dtype=np.float32)
        return np.ones((n, cfg.z_dim), dtype=np.float32)

    def sample_noise(self, n):
        """n noise vectors from the trainer's stream, on the trainer's device."""
        return to_device(self.noise(self.rng, n).astype(self.dtype, copy=False), self.device)

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

    def new_epoch(self):
        """Draw the epoch's order of the data (nothing to do for a sampler)."""
        if self.data is not None:
            self.perm = self.rng.permutation(self.n_data)

    def real_batch(self, pos):
        """This process's rows of step ``pos``'s real batch (all of it in a single process)."""
        B = self.config.batch_size
        if self.data is None:
            real = self.parallel.shard(self.real_sampler(self.rng, B))
        else:
            real = self._rows(self.parallel.shard(self.perm[pos * B:(pos + 1) * B]))
        if self.transform is not None:
            real = self.transform(real)
        real = to_device(real, self.device)
        return real if real.dtype == self.dtype else real.astype(self.dtype)

    def real_sample(self, n, gen):
        """Up to n real samples (transformed), chosen with the NumPy Generator ``gen`` and leaving
        the trainer's stream alone: what the generated samples' diversity is compared with."""
        if self.data is not None:
            batch = self._rows(gen.choice(self.n_data, size=min(n, self.n_data), replace=False))
        else:
            batch = self.real_sampler(gen, n)
        return self.transform(batch) if self.transform is not None else batch

    def _rows(self, idx):
        xp = get_array_module(self.data)
        return self.data[xp.asarray(idx)] if xp is not np else self.data[idx]

    def state(self):
        """(arrays, meta) of the stream: the epoch's order and the generator's state."""
        return ({"trainer/perm": self.perm} if self.perm is not None else {},
                {"rng": self.rng.bit_generator.state})

    def load_state(self, arrays, meta):
        """The epoch's order (checked: a permutation of the data's rows) and the stream's state."""
        perm = arrays.get("trainer/perm")
        if perm is not None and self.data is not None and not (
                perm.dtype.kind in "iu" and perm.shape == (self.n_data,)
                and (np.sort(perm) == np.arange(self.n_data)).all()):
            raise ValueError(f"its epoch order 'trainer/perm' ({perm.dtype} {perm.shape}) is not "
                             f"an order of the {self.n_data} training samples")
        self.perm = perm
        self.rng.bit_generator.state = meta["rng"]
