"""The trainer's samples: the generator that makes them (G, or the average of its weights), in
eval mode, from the run's fixed noise or from seeded noise, and exported as an array."""
import io

import numpy as np

from ..backend import asnumpy, rng_state, set_rng_state, to_device
from ..files.atomic import atomic_write
from ..files.checkpoint import subdict
from .outputs import SAMPLES

__all__ = ["Samples"]


class Samples:
    """Samples of ``G`` (or of ``ema``, a :class:`~minigan.gan.ema.GeneratorAverage`, when given).

    ``noise(gen, n)`` draws n noise vectors from a NumPy Generator (the trainer's
    :meth:`Batches.noise <minigan.gan.batches.Batches.noise>`); ``fixed_noise`` — the
    ``config.n_fixed`` vectors every grid is made from — is drawn at once from its own seed.
    """

    def __init__(self, G, noise, config, *, ema=None, device="cpu", dtype=np.float32,
                 image_shape=None, averaged_statistics=True, folder=None):
        self.G, self.ema, self.noise, self.config = G, ema, noise, config
        self.device, self.dtype, self.image_shape, self.folder = device, dtype, image_shape, folder
        self.averaged_statistics = averaged_statistics     # False: one process of several
        self.fixed_noise = noise(np.random.default_rng([config.seed, 2]), config.n_fixed)

    @property
    def generator(self):
        """The generator that makes samples: the average of G's weights with ``config.ema``
        (ema.py), else G itself. With ``config.ema_statistics`` the average's BatchNorm
        statistics are first recomputed for its weights, once per step it is used at."""
        if self.ema is None:
            return self.G
        n = self.config.ema_statistics
        if n and self.averaged_statistics and self.ema.statistics_at != self.ema.updates:
            noise = self.noise(np.random.default_rng([self.config.seed, 98]), n)
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
        (n, *image_shape), from :attr:`generator`. Leaves the model's mode and every random
        state as they were."""
        G = self.generator
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
        """n samples from noise drawn by a generator seeded with ``seed`` (default: one derived
        from the run's seed, so every call gives the same noise). Returns float32
        (n, *image_shape) in the generator's output range."""
        gen = np.random.default_rng([self.config.seed, 3] if seed is None else seed)
        return self.generate(self.noise(gen, n))

    def export(self, n, path=None, seed=None):
        """Write n samples to ``path`` (default OUT/samples.npy), atomically: float32
        (n, C, H, W) in the generator's output range."""
        samples = self.sample(n, seed=[self.config.seed, 5] if seed is None else seed)
        if samples.ndim == 2:
            samples = samples[:, None, None, :]
        path = path or self.folder.path(SAMPLES)
        buf = io.BytesIO()
        np.save(buf, samples.astype(np.float32))
        atomic_write(path, lambda f: f.write(buf.getvalue()))
        return path

    def state(self):
        """(arrays, meta): the fixed noise and, with an average, its weights (with its standing
        statistics, if the run uses them) and number of updates."""
        arrays = {"trainer/fixed_noise": self.fixed_noise}
        if self.ema is not None:
            arrays.update({f"G_ema/{k}": v for k, v in self.generator.state_dict().items()})
        return arrays, {"ema_updates": self.ema.updates if self.ema is not None else None}

    def load_state(self, arrays, meta):
        """Fixed noise (of this run's shape) and the average's weights and update count."""
        noise = arrays["trainer/fixed_noise"]
        if noise.shape != self.fixed_noise.shape or noise.dtype.kind != "f":
            raise ValueError(f"its fixed noise 'trainer/fixed_noise' is {noise.dtype} "
                             f"{noise.shape}, expected {self.fixed_noise.shape} (n_fixed, z_dim)")
        if self.ema is not None:
            updates = meta.get("ema_updates")
            if updates is None:
                raise ValueError("it holds no averaged generator (trained without --ema)")
            if isinstance(updates, bool) or not isinstance(updates, int) or updates < 0:
                raise ValueError(f"its entry 'ema_updates' is {updates!r}, expected a whole "
                                 f"number >= 0")
            self.ema.model.load_state_dict(subdict(arrays, "G_ema"))
            self.ema.updates = meta["ema_updates"]
        self.fixed_noise = noise.astype(self.fixed_noise.dtype)
