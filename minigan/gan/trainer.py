"""GANTrainer: alternating discriminator and generator steps, with logging, health checks,
sample grids, plots, checkpoints and exact resume.

One training step (batch of B real images x, noise z):

    fake = G(z)                                   # once; reused by both halves of the step
    D step:  D.zero_grad()
             loss_real = ℓ(D(x), t_real);    D.backward(∂loss_real/∂D(x))      (grads add up)
             loss_fake = ℓ(D(fake), t_fake); D.backward(∂loss_fake/∂D(fake))   (fake is "detached":
             optD.step()                                                  no gradient flows to G)
    G step:  G.zero_grad(); D.zero_grad()
             loss_G = ℓ(D(fake), 1)         # non-saturating: G maximises log D(G(z))
             d_fake = D.backward(∂loss_G/∂D(fake))      # the gradient w.r.t. the fake images
             G.backward(d_fake); optG.step()            # uses the caches of the one G(z) above

loss_D = loss_real + loss_fake (as in the PyTorch and TensorFlow DCGAN tutorials). Real and
fake images go through D in separate batches (a trick from the DCGAN literature: BatchNorm in D
then never mixes their statistics). ℓ is BCEWithLogits (D outputs a logit), BCE (D ends in a
sigmoid) or MSE. Options: soft labels (t_real ~ U[0.9, 1.1], t_fake ~ U[0, 0.2], per sample),
occasional label flipping (t_real and t_fake swapped for a random few per cent of the batch),
separate learning rates and betas for G and D.

Randomness: minigan's own generators (``mg.seed``: weight init, Dropout masks) and one NumPy
Generator owned by the trainer (epoch permutations, z, soft/flipped labels). A checkpoint holds
both states (on the GPU minigan's generator is Philox: a key and a counter), the epoch's
permutation and the position in it, so an interrupted and resumed run produces bit-identical
weights to an uninterrupted one, on the CPU and on the same kind of GPU.
"""
import csv
import io
import math
import os
import re
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, fields

import numpy as np

from .. import nn, optim
from ..backend import asnumpy, get_array_module, rng_state, set_rng_state, to_device
from .checkpoint import (atomic_write, flatten_optimizer_state, load_checkpoint, save_checkpoint,
                         subdict, unflatten_optimizer_state)
from .health import HealthMonitor
from .plots import plot_losses, save_gif
from .sampling import mean_pairwise_distance, save_grid

__all__ = ["TrainConfig", "GANTrainer", "NonFiniteLossError", "TrainingDiverged",
           "CHECKPOINT", "NONFINITE_CHECKPOINT", "METRICS", "LOSSES_PNG", "PROGRESS_GIF",
           "GRID_DIR", "LATEST_GRID", "CSV_COLUMNS"]

CHECKPOINT = "checkpoint.npz"
NONFINITE_CHECKPOINT = "checkpoint_nonfinite.npz"
METRICS = "metrics.csv"
LOSSES_PNG = "losses.png"
PROGRESS_GIF = "progress.gif"
GRID_DIR = "grids"
LATEST_GRID = "grid_latest.png"
CSV_COLUMNS = ["kind", "epoch", "step", "time", "images_per_s", "loss_D", "loss_G", "D_x",
               "D_G_z", "diversity", "epoch_time"]
_GRID_NAME = re.compile(r"^step_(\d{7})(?:_epoch_(\d+))?\.png$")
LOSSES = ("bce_logits", "bce", "mse")
NOISES = ("normal", "uniform", "ones")


@dataclass
class TrainConfig:
    """Hyper-parameters of a GAN run (saved in every checkpoint).

    z_dim / noise: the generator's input, ``normal`` N(0, 1), ``uniform`` U[0, 1) or ``ones``.
    batch_size; epochs (total); max_steps (total; None = no limit); steps_per_epoch (None: data
    size // batch_size; required when real data come from a sampler function).
    loss: ``bce_logits`` (D outputs logits), ``bce`` (D outputs probabilities) or ``mse``.
    optimizer ``adam`` or ``sgd``; lr_g, lr_d, betas_g, betas_d (betas: Adam only).
    real_label / fake_label: (low, high) — each target drawn uniformly from it per sample
    (low == high: hard labels); flip_prob: chance per sample that real and fake targets swap.
    sample_every / checkpoint_every: steps between extra grids / checkpoints (0: epoch ends).
    log_every: steps per metrics row (its numbers are means over those steps).
    n_fixed: fixed-noise samples in each grid; grid_nrow: images per grid row.
    diversity_every: steps between diversity checks (0: about 4 per epoch).
    health_patience: steps a failure condition must last before it is reported.
    """
    z_dim: int = 100
    noise: str = "normal"
    batch_size: int = 64
    epochs: int = 25
    max_steps: int = None
    steps_per_epoch: int = None
    loss: str = "bce_logits"
    optimizer: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas_g: tuple = (0.5, 0.999)
    betas_d: tuple = (0.5, 0.999)
    real_label: tuple = (1.0, 1.0)
    fake_label: tuple = (0.0, 0.0)
    flip_prob: float = 0.0
    seed: int = 0
    sample_every: int = 0
    checkpoint_every: int = 0
    log_every: int = 1
    n_fixed: int = 64
    grid_nrow: int = None
    diversity_every: int = 0
    health_patience: int = 100

    def __post_init__(self):
        for name in ("betas_g", "betas_d", "real_label", "fake_label"):
            setattr(self, name, tuple(float(v) for v in getattr(self, name)))
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.noise not in NOISES:
            raise ValueError(f"noise must be one of {NOISES}, got {self.noise!r}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        for name in ("batch_size", "epochs", "z_dim", "log_every", "n_fixed"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1 (or None), got {self.max_steps}")
        if not 0.0 <= self.flip_prob <= 1.0:
            raise ValueError(f"flip_prob must be in [0, 1], got {self.flip_prob}")

    def to_dict(self):
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d):
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite inside a step (raised before any optimizer step on it)."""

    def __init__(self, name, value):
        super().__init__(f"{name} is {value}")
        self.name, self.value = name, value


class TrainingDiverged(RuntimeError):
    """Training stopped on a non-finite loss; ``checkpoint`` is the file holding that state."""

    def __init__(self, message, checkpoint, step):
        super().__init__(message)
        self.checkpoint, self.step = checkpoint, step


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


class GANTrainer:
    """Trains generator ``G`` against discriminator ``D``.

    Real data come either from ``data`` — an array (N, ...) on any device, shuffled each epoch,
    with ``transform`` applied per batch (e.g. uint8 pixels -> [-1, 1]) — or from
    ``real_sampler(rng, n)`` returning n fresh samples (then set
    ``config.steps_per_epoch``).

    Files go to ``out_dir`` (None: nothing is written): ``metrics.csv``, ``losses.png``,
    ``grids/step_XXXXXXX[_epoch_XXX].png`` (fixed-noise samples), ``grid_latest.png``,
    ``progress.gif``, ``checkpoint.npz``.

    image_shape: the shape of one generated sample as an image (C, H, W) (default: the
    data's); value_range: the generator's output range; render: "gray", "rgb", "heatmap" or
    "none" (no grids). run_config: a JSON-able dict saved in checkpoints (the examples store
    their model builders there so the run can be rebuilt).

    Hooks: ``epoch_metrics`` — functions ``fn(trainer) -> dict`` called at each epoch end
    (with the random states preserved around them); their values go into the epoch row of
    metrics.csv and the epoch line. ``step_callbacks`` — ``fn(trainer, row) -> dict`` called
    when a step row is logged; their values are added to the row.
    """

    def __init__(self, G, D, config, *, data=None, transform=None, real_sampler=None,
                 out_dir=None, device="cpu", image_shape=None, value_range=(-1.0, 1.0),
                 render="gray", grid_scale=1, run_config=None, quiet=False,
                 epoch_metrics=None, step_callbacks=None, say=None, progress=None):
        if (data is None) == (real_sampler is None):
            raise ValueError("give exactly one of data (an array) or real_sampler (a function)")
        self.config = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
        cfg = self.config
        self.device = device
        self.G, self.D = G.to(device), D.to(device)
        self.dtype = np.dtype(self.G.dtype or np.float32)   # float32, or float64 for checks
        self.data = to_device(data, device) if data is not None else None
        self.transform = transform
        self.real_sampler = real_sampler
        if self.data is not None:
            self.n_data = int(len(self.data))
            spe = cfg.steps_per_epoch or self.n_data // cfg.batch_size
            if spe < 1:
                raise ValueError(f"batch size {cfg.batch_size} is larger than the data set "
                                 f"({self.n_data} samples)")
            spe = min(spe, self.n_data // cfg.batch_size)
        else:
            self.n_data = None
            if not cfg.steps_per_epoch:
                raise ValueError("config.steps_per_epoch is needed with a real_sampler")
            spe = cfg.steps_per_epoch
        self.steps_per_epoch = int(spe)
        if image_shape is None:
            image_shape = tuple(self.data.shape[1:]) if self.data is not None else None
        self.image_shape = tuple(image_shape) if image_shape is not None else None
        self.value_range = tuple(float(v) for v in value_range)
        self.render, self.grid_scale = render, grid_scale
        self.run_config = dict(run_config or {})
        self.out_dir = out_dir
        self.quiet = quiet
        self.epoch_metrics = list(epoch_metrics or [])
        self.step_callbacks = list(step_callbacks or [])
        self._say_fn = say
        self.progress = progress   # None: a tqdm bar when stderr is a terminal and not quiet

        self.loss_fn = {"bce_logits": nn.BCEWithLogitsLoss, "bce": nn.BCELoss,
                        "mse": nn.MSELoss}[cfg.loss]()
        self.opt_g = self._make_optimizer(self.G, cfg.lr_g, cfg.betas_g)
        self.opt_d = self._make_optimizer(self.D, cfg.lr_d, cfg.betas_d)

        # the trainer's own random streams, independent of mg.seed's (SeedSequence spawning)
        self.rng = np.random.default_rng([cfg.seed, 1])           # permutations, z, labels
        self.fixed_noise = self._noise(np.random.default_rng([cfg.seed, 2]), cfg.n_fixed)
        self.health = HealthMonitor(cfg.loss, patience=cfg.health_patience, say=self._warn,
                                    probabilities=cfg.loss != "mse",
                                    hard_labels=cfg.real_label == (1.0, 1.0)
                                    and cfg.fake_label == (0.0, 0.0) and cfg.flip_prob == 0,
                                    warmup_steps=self.steps_per_epoch)
        self.step = 0
        self.perm = None
        self.elapsed = 0.0          # wall seconds of training, summed over resumed runs
        self.history = []           # metrics rows (dicts), step and epoch rows
        self.resumed_from = None
        self.last = {}              # the last step's arrays: real, fake, z (for callbacks)
        self._epoch_acc = self._new_acc()
        self._log_acc = self._new_acc()
        self._stop_requested = False
        self._saved_at = None
        self._bar = None
        self.diversity = None

    # ------------------------------------------------------------------------- construction
    def _make_optimizer(self, module, lr, betas):
        if self.config.optimizer == "adam":
            return optim.Adam(module.parameters(), lr=lr, betas=betas)
        return optim.SGD(module.parameters(), lr=lr)

    @staticmethod
    def _new_acc():
        return {"n": 0, "loss_D": 0.0, "loss_G": 0.0, "D_x": 0.0, "D_G_z": 0.0, "seconds": 0.0,
                "images": 0}

    # ------------------------------------------------------------------------- output helpers
    def path(self, name):
        return None if self.out_dir is None else os.path.join(self.out_dir, name)

    def _say(self, msg, file=None):
        if self._say_fn is not None:
            self._say_fn(msg)
            return
        file = file or sys.stdout
        if self._bar is not None:
            from tqdm import tqdm
            tqdm.write(msg, file=file)
        else:
            print(msg, file=file, flush=True)

    def _warn(self, msg):
        self._say(msg, file=sys.stderr)

    # ------------------------------------------------------------------------- randomness
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
        B = self.config.batch_size
        if self.data is None:
            real = self.real_sampler(self.rng, B)
        else:
            idx = self.perm[pos * B:(pos + 1) * B]
            xp = get_array_module(self.data)
            real = self.data[xp.asarray(idx)] if xp is not np else self.data[idx]
        if self.transform is not None:
            real = self.transform(real)
        real = to_device(real, self.device)
        return real if real.dtype == self.dtype else real.astype(self.dtype)

    # ------------------------------------------------------------------------- one step
    def prob(self, out):
        """Mean of D's output as a probability (sigmoid of logits for bce_logits)."""
        xp = get_array_module(out)
        if self.config.loss == "bce_logits":
            return float(xp.mean(nn.activation.sigmoid(out)))
        return float(xp.mean(out))

    def _check(self, name, value):
        if not math.isfinite(value):
            raise NonFiniteLossError(name, value)
        return value

    def train_step(self, real):
        """One D step and one G step on a real batch; returns the step's numbers."""
        # BCELoss takes log(1 − p) of p = 1 before clamping at −100 (as PyTorch does): the
        # clamped result is right, only NumPy's divide-by-zero warning is noise.
        with np.errstate(divide="ignore"):
            return self._train_step(real)

    def _train_step(self, real):
        B = real.shape[0]
        z = self.sample_noise(B)
        t_real, t_fake = self.make_labels(B)
        self.G.train()
        self.D.train()
        fake = self.G(z)
        self.last = {"real": real, "z": z, "fake": fake}
        d = self.discriminator_step(real, fake, t_real, t_fake)
        g = self.generator_step(fake)
        return dict(d, **g)

    def discriminator_step(self, real, fake, t_real, t_fake):
        """D.zero_grad(); backward on the real batch, then on the fake batch; optD.step()."""
        D, loss = self.D, self.loss_fn
        self.opt_d.zero_grad()
        out_real = D(real)
        loss_real = loss(out_real, t_real.reshape(out_real.shape))
        D_x = self.prob(out_real)
        D.backward(loss.backward(), need_input_grad=False)
        out_fake = D(fake)
        loss_fake = loss(out_fake, t_fake.reshape(out_fake.shape))
        D_G_z = self.prob(out_fake)
        D.backward(loss.backward(), need_input_grad=False)     # fake is detached for D
        loss_D = self._check("loss_D", loss_real + loss_fake)
        self.opt_d.step()
        return {"loss_D": loss_D, "D_x": D_x, "D_G_z": D_G_z}

    def generator_step(self, fake):
        """Non-saturating G step: loss ℓ(D(fake), 1), gradient through D into G."""
        G, D, loss = self.G, self.D, self.loss_fn
        self.opt_g.zero_grad()
        D.zero_grad()
        out = D(fake)
        xp = get_array_module(out)
        loss_G = self._check("loss_G", loss(out, xp.ones_like(out)))
        d_fake = D.backward(loss.backward())
        G.backward(d_fake, need_input_grad=False)
        self.opt_g.step()
        return {"loss_G": loss_G}

    # ------------------------------------------------------------------------- sampling
    def generate(self, z, batch=256):
        """G(z) in eval mode (BatchNorm uses its running statistics), as a NumPy array shaped
        (n, *image_shape). Leaves G in train mode and no random state touched."""
        was_training = self.G.training
        self.G.eval()
        outs = []
        try:
            for i in range(0, len(z), batch):
                zb = np.asarray(z[i:i + batch], dtype=self.dtype)
                outs.append(asnumpy(self.G(to_device(zb, self.device))).astype(np.float32))
        finally:
            self.G.train(was_training)
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

    def _save_grid(self, epoch_end):
        imgs = self.generate(self.fixed_noise)
        self._check_diversity(imgs)
        if self.out_dir is None or self.render == "none":
            return None
        name = f"step_{self.step:07d}" + (f"_epoch_{self.step // self.steps_per_epoch:03d}"
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

    # ------------------------------------------------------------------------- metrics files
    def write_metrics(self):
        """Rewrite metrics.csv from the history (atomically): the fixed columns, then any extra
        keys (epoch metrics, step callbacks) in order of first appearance."""
        if self.out_dir is None:
            return None
        cols = list(CSV_COLUMNS)
        for row in self.history:
            cols += [k for k in row if k not in cols]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for row in self.history:
            w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
        data = buf.getvalue().encode()
        return atomic_write(self.path(METRICS), lambda f: f.write(data))

    def _read_metrics(self):
        """Rows of an existing metrics.csv up to the current step (for resume)."""
        path = self.path(METRICS)
        if path is None or not os.path.isfile(path):
            return []
        rows = []
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                row = {}
                for k, v in r.items():
                    if v in ("", None):
                        continue
                    if k == "kind":
                        row[k] = v
                    elif k in ("epoch", "step"):
                        row[k] = int(float(v))
                    else:
                        try:
                            row[k] = float(v)
                        except ValueError:
                            row[k] = v
                if row.get("step", 0) <= self.step:
                    rows.append(row)
        return rows

    def plot(self):
        """losses.png from the step rows."""
        if self.out_dir is None:
            return None
        steps = [r for r in self.history if r.get("kind") == "step"]
        if not steps:
            return None
        epochs = [r for r in self.history if r.get("kind") == "epoch"]
        title = self.run_config.get("title")
        return plot_losses(steps, self.path(LOSSES_PNG), title=title, epoch_rows=epochs)

    def make_gif(self, duration_ms=300):
        """progress.gif from the grids written so far."""
        if self.out_dir is None or self.render == "none":
            return None
        frames = [p for _, p in self.grid_files()]
        if not frames:
            return None
        return save_gif(frames, self.path(PROGRESS_GIF), duration_ms=duration_ms,
                        last_frame_ms=1500)

    def _write_outputs(self):
        self.write_metrics()
        self.plot()
        self.make_gif()

    # ------------------------------------------------------------------------- checkpoints
    def state(self):
        """(arrays, meta) describing everything needed to continue exactly."""
        arrays = {}
        for prefix, m in (("G", self.G), ("D", self.D)):
            for k, v in m.state_dict().items():
                arrays[f"{prefix}/{k}"] = v
        opt_meta = {}
        for prefix, opt in (("optG", self.opt_g), ("optD", self.opt_d)):
            a, rest = flatten_optimizer_state(opt.state_dict(), prefix)
            arrays.update(a)
            opt_meta[prefix] = rest
        arrays["trainer/fixed_noise"] = self.fixed_noise
        if self.perm is not None:
            arrays["trainer/perm"] = self.perm
        config = dict(self.run_config, train=self.config.to_dict(),
                      image_shape=list(self.image_shape) if self.image_shape else None,
                      value_range=list(self.value_range), render=self.render)
        meta = {
            "status": "ok",
            "step": self.step,
            "epoch": self.step // self.steps_per_epoch,
            "steps_per_epoch": self.steps_per_epoch,
            "n_data": self.n_data,
            "elapsed": self.elapsed,
            "rng": self.rng.bit_generator.state,
            "mg_rng": rng_state(),
            "optimizers": opt_meta,
            "health": self.health.state_dict(),
            "epoch_acc": self._epoch_acc,
            "log_acc": self._log_acc,
            "config": config,
            "saved_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        return arrays, meta

    def save_checkpoint(self, path=None, status="ok", note=None):
        """Write the checkpoint (default ``out_dir/checkpoint.npz``) atomically."""
        path = path or self.path(CHECKPOINT)
        if path is None:
            return None
        arrays, meta = self.state()
        meta["status"] = status
        if note:
            meta["note"] = note
        save_checkpoint(path, arrays, meta)
        if status == "ok":
            self._saved_at = self.step
        return path

    def load_checkpoint(self, path=None):
        """Restore a checkpoint written by :meth:`save_checkpoint` (models, optimizers, RNG
        states, position in the epoch, health counters, metrics history from metrics.csv)."""
        path = path or self.path(CHECKPOINT)
        arrays, meta = load_checkpoint(path)
        if meta.get("status", "ok") != "ok":
            raise ValueError(f"{path} is marked {meta['status']!r} (saved when training failed); "
                             f"it is kept for inspection and cannot be resumed")
        if meta["steps_per_epoch"] != self.steps_per_epoch or meta.get("n_data") != self.n_data:
            raise ValueError(
                f"{path} was saved with {meta.get('n_data')} training samples and "
                f"{meta['steps_per_epoch']} steps per epoch, but this run has {self.n_data} and "
                f"{self.steps_per_epoch}: the data set or batch size changed, so the run cannot "
                f"continue exactly")
        self.G.load_state_dict(subdict(arrays, "G"))
        self.D.load_state_dict(subdict(arrays, "D"))
        self.opt_g.load_state_dict(unflatten_optimizer_state(arrays, meta["optimizers"]["optG"], "optG"))
        self.opt_d.load_state_dict(unflatten_optimizer_state(arrays, meta["optimizers"]["optD"], "optD"))
        self.fixed_noise = arrays["trainer/fixed_noise"]
        self.perm = arrays.get("trainer/perm")
        self.step = int(meta["step"])
        self.elapsed = float(meta["elapsed"])
        self.rng.bit_generator.state = meta["rng"]
        set_rng_state(meta["mg_rng"])
        self.health.load_state_dict(meta["health"])
        self._epoch_acc = dict(meta["epoch_acc"])
        self._log_acc = dict(meta["log_acc"])
        self.history = self._read_metrics()
        for step, p in self._all_grid_files():       # grids of steps the checkpoint has not
            if step > self.step:                     # seen (a crash after them) are redone
                os.remove(p)
        self.resumed_from = self.step
        self._saved_at = self.step
        return meta

    # ------------------------------------------------------------------------- the loop
    def target_steps(self):
        cfg = self.config
        target = cfg.epochs * self.steps_per_epoch
        return min(target, cfg.max_steps) if cfg.max_steps else target

    def _progress_enabled(self):
        if self.progress is not None:
            return bool(self.progress)
        return not self.quiet and sys.stderr.isatty()

    def fit(self):
        """Train up to ``target_steps()``; returns a summary dict.

        Ctrl-C finishes the current step, saves a checkpoint and raises KeyboardInterrupt
        (a second Ctrl-C aborts at once without saving). A NaN/inf loss saves
        ``checkpoint_nonfinite.npz`` and raises :class:`TrainingDiverged`.
        """
        target = self.target_steps()
        if self.out_dir is not None:
            os.makedirs(self.out_dir, exist_ok=True)
        if self.health.real_diversity is None:
            self.health.real_diversity = self._real_diversity()
        if self.step >= target:
            self._say(f"nothing to train: the run is at step {self.step} and the target is "
                      f"{target} (raise --epochs or --max-steps to continue)")
            self._write_outputs()
            return self.summary()
        if self.step == 0:
            if self.out_dir is not None:
                self._clear_grids()
            self._save_grid(epoch_end=False)        # what G makes before any training
        handler_installed = False
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, self._on_sigint)
            handler_installed = True
        self._fit_start = time.perf_counter()
        self._elapsed_at_start = self.elapsed
        try:
            self._loop(target)
        except NonFiniteLossError as e:
            self._close_bar()
            raise self._diverged(e) from None
        finally:
            self._close_bar()
            if handler_installed:
                signal.signal(signal.SIGINT, previous)
        self._finish()
        return self.summary()

    def _on_sigint(self, signum, frame):
        if self._stop_requested:
            raise KeyboardInterrupt
        self._stop_requested = True
        self._warn("\nCtrl-C: finishing this step, then saving a checkpoint "
                   "(press Ctrl-C again to stop at once without saving)")

    def _clock(self):
        return self._elapsed_at_start + time.perf_counter() - self._fit_start

    def _loop(self, target):
        cfg, spe = self.config, self.steps_per_epoch
        while self.step < target:
            epoch, pos = divmod(self.step, spe)
            if pos == 0:
                if self.data is not None:
                    self.perm = self.rng.permutation(self.n_data)
                self._epoch_acc = self._new_acc()
            self._open_bar(epoch, pos)
            while pos < spe and self.step < target:
                t0 = time.perf_counter()
                real = self._real_batch(pos)
                stats = self.train_step(real)
                dt = time.perf_counter() - t0
                self.step += 1
                pos += 1
                self.elapsed = self._clock()
                self._after_step(stats, dt, real.shape[0])
                if pos == spe:
                    self._end_epoch()
                else:
                    if cfg.sample_every and self.step % cfg.sample_every == 0:
                        self._save_grid(epoch_end=False)
                    elif self.step % self._diversity_every() == 0:
                        self._check_diversity(self.generate(self.fixed_noise))
                    if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                        self.save_checkpoint()
                if self._stop_requested:
                    self._interrupted()
            self._close_bar()

    def _after_step(self, stats, dt, batch):
        for acc in (self._epoch_acc, self._log_acc):
            acc["n"] += 1
            acc["seconds"] += dt
            acc["images"] += batch
            for k in ("loss_D", "loss_G", "D_x", "D_G_z"):
                acc[k] += stats[k]
        self.health.check_step(self.step, stats["loss_D"], stats["loss_G"], stats["D_x"],
                               stats["D_G_z"])
        cfg = self.config
        if self.step % cfg.log_every == 0:
            row = self._row("step", self._log_acc)
            for fn in self.step_callbacks:
                row.update(fn(self, row) or {})
            self.history.append(row)
            self._log_acc = self._new_acc()
        if self._bar is not None:
            self._bar.set_postfix_str(
                f"loss_D {stats['loss_D']:.3f}  loss_G {stats['loss_G']:.3f}  "
                f"{batch / max(dt, 1e-9):.0f} img/s", refresh=False)
            self._bar.update(1)
        elif not self.quiet and self._print_every() and self.step % self._print_every() == 0 \
                and self.step % self.steps_per_epoch != 0:
            self._say(f"  step {self.step}  loss_D {stats['loss_D']:.4f}  loss_G "
                      f"{stats['loss_G']:.4f}  D(x) {stats['D_x']:.3f}  D(G(z)) "
                      f"{stats['D_G_z']:.3f}  {batch / max(dt, 1e-9):.0f} img/s")

    def _print_every(self):
        spe = self.steps_per_epoch
        return max(1, spe // 4) if spe >= 4 else 0

    def _row(self, kind, acc):
        n = max(acc["n"], 1)
        row = {"kind": kind, "epoch": (self.step - 1) // self.steps_per_epoch + 1, "step": self.step,
               "time": round(self.elapsed, 3),
               "images_per_s": round(acc["images"] / acc["seconds"], 2) if acc["seconds"] > 0 else "",
               "loss_D": acc["loss_D"] / n, "loss_G": acc["loss_G"] / n,
               "D_x": acc["D_x"] / n, "D_G_z": acc["D_G_z"] / n}
        return row

    def _end_epoch(self):
        epoch = self.step // self.steps_per_epoch
        self._save_grid(epoch_end=True)
        row = self._row("epoch", self._epoch_acc)
        row["diversity"] = self.diversity
        row["epoch_time"] = round(self._epoch_acc["seconds"], 3)
        extras = {}
        if self.epoch_metrics:
            mg_state, own = rng_state(), self.rng.bit_generator.state
            try:
                for fn in self.epoch_metrics:
                    extras.update(fn(self) or {})
            finally:
                set_rng_state(mg_state)
                self.rng.bit_generator.state = own
        row.update(extras)
        self.history.append(row)
        self._close_bar()
        line = (f"epoch {epoch}/{self.config.epochs}  step {self.step}  loss_D {row['loss_D']:.4f}  "
                f"loss_G {row['loss_G']:.4f}  D(x) {row['D_x']:.3f}  D(G(z)) {row['D_G_z']:.3f}  "
                f"diversity {self.diversity:.3f}  {row['epoch_time']:.1f} s "
                f"({row['images_per_s'] or 0:.0f} img/s)")
        if extras:
            line += "  " + "  ".join(f"{k} {_fmt(v)}" for k, v in extras.items())
        self._say(line)
        self._write_outputs()
        self.save_checkpoint()

    def _finish(self):
        if self.step % self.steps_per_epoch != 0:       # stopped mid-epoch (max_steps)
            self._save_grid(epoch_end=False)
        self._write_outputs()
        if self._saved_at != self.step:
            self.save_checkpoint()

    def _interrupted(self):
        self._close_bar()
        self._write_outputs()
        path = self.save_checkpoint()
        self._stop_requested = False
        self._say(f"interrupted at step {self.step}: checkpoint saved to {path}")
        raise KeyboardInterrupt

    def _diverged(self, err):
        path = self.path(NONFINITE_CHECKPOINT)
        epoch = self.step // self.steps_per_epoch + 1
        where = f"step {self.step + 1} (epoch {epoch})"
        if path is not None:
            self.save_checkpoint(path, status="nonfinite", note=f"{err.name} = {err.value} at {where}")
        self._write_outputs()
        good = self.path(CHECKPOINT)
        kept = (f"; the last good checkpoint {good} is untouched"
                if good and os.path.isfile(good) else "")
        msg = (f"{err.name} became {err.value} at {where}: training stopped. The state that "
               f"produced it is saved in {path} (marked 'nonfinite', for inspection){kept}. "
               f"Try lower learning rates (--lr-g, --lr-d).")
        return TrainingDiverged(msg, path, self.step + 1)

    def _open_bar(self, epoch, pos):
        if not self._progress_enabled():
            return
        from tqdm import tqdm
        self._bar = tqdm(total=self.steps_per_epoch, initial=pos, leave=False, file=sys.stderr,
                         desc=f"epoch {epoch + 1}/{self.config.epochs}", unit="step",
                         dynamic_ncols=True)

    def _close_bar(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def summary(self):
        epochs = [r for r in self.history if r.get("kind") == "epoch"]
        return {"step": self.step, "epoch": self.step / self.steps_per_epoch,
                "elapsed": self.elapsed, "checkpoint": self.path(CHECKPOINT),
                "last_epoch": epochs[-1] if epochs else None, "diversity": self.diversity,
                "warnings": dict(self.health.issued)}

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
