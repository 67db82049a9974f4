"""GANTrainer: alternating discriminator and generator steps, with logging, health checks,
sample grids, plots, checkpoints and exact resume.

Each step: fake = G(z) once, then the D step and the G step of steps.py (plain functions,
the same lines examples/dcgan_from_scratch.py writes out). Read ``fit`` → ``_loop`` →
``train_step`` here, then the two functions in steps.py. Everything else is a part the
trainer creates and calls, each with its own file and test:

    batches      Batches        the real batch, the noise z and D's targets (the random stream)
    samples      Samples        G (or its average) in eval mode: grids' images, exported samples
    grids        Grids          grids/, grid_latest.png, progress.gif
    metrics_log  MetricsLog     the history's rows, metrics.csv, losses.png
    health       HealthMonitor  warnings a learner can act on
    checkpointer Checkpointer   checkpoint.npz: save, and restore all or nothing
    stop         StopSignals    Ctrl-C / SIGTERM / SIGHUP: finish the step, save, stop
    console      Console        messages and the progress bar

The parts do not know each other; the trainer passes what one needs from another.
minigan/distributed/ runs it over several processes.

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
import hashlib
import os
import time

import numpy as np

from .. import nn, optim
from ..backend import asnumpy, rng_state, set_rng_state
from ..distributed.data_parallel import SingleProcess
from ..files.checkpoint import flatten_optimizer_state
from .batches import Batches
from .checkpointer import Checkpointer
from .config import TrainConfig
from .console import Console
from .ema import GeneratorAverage
from .grids import Grids
from .health import HealthMonitor, mean_pairwise_distance
from .metrics_log import CSV_COLUMNS, MetricsLog
from .outputs import (CHECKPOINT, GRID_DIR, LATEST_GRID, LOSSES_PNG, METRICS, NONFINITE_CHECKPOINT,
                      PROGRESS_GIF, OutputFolder, foreign_file)
from .samples import Samples
from .steps import NonFiniteLossError, discriminator_step, generator_step
from .stop import StopSignals, TrainingDiverged, TrainingInterrupted

__all__ = ["TrainConfig", "GANTrainer", "NonFiniteLossError", "TrainingDiverged", "TrainingInterrupted",
           "CHECKPOINT", "NONFINITE_CHECKPOINT", "METRICS", "LOSSES_PNG", "PROGRESS_GIF",
           "GRID_DIR", "LATEST_GRID", "CSV_COLUMNS"]

LOSSES = {"bce_logits": nn.BCEWithLogitsLoss, "bce": nn.BCELoss, "mse": nn.MSELoss,
          "hinge": nn.HingeLoss}


def shared_settings(trainer):
    """What every process of a data-parallel run must share: the config, the run's builders,
    the step it starts from, the data (shape and a digest), every parameter's and buffer's
    shape, and a digest of the optimizers' state (a resumed run's moments are not broadcast)."""
    settings = {f"config.{k}": v for k, v in trainer.config.to_dict().items()}
    data = trainer.batches.data
    settings.update({"run_config": trainer.run_config, "step": trainer.step,
                     "data shape": list(getattr(data, "shape", ()) or ()),
                     "data": _digest([data] if isinstance(data, np.ndarray) else [])})
    for label, model in (("G", trainer.G), ("D", trainer.D)):
        for name, array in model.state_dict().items():
            settings[f"{label}'s {name}"] = f"shape {tuple(array.shape)} {array.dtype}"
    for label, opt in (("optG", trainer.opt_g), ("optD", trainer.opt_d)):
        flat, rest = flatten_optimizer_state(opt.state_dict(), label)
        settings[f"{label} state"] = _digest([asnumpy(flat[k]) for k in sorted(flat)] + [repr(rest)])
    return settings


def _digest(parts):
    """A short sha256 of arrays (their bytes, shapes and dtypes) and strings."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, str):
            h.update(part.encode())
        else:
            h.update(f"{part.shape}{part.dtype}".encode())
            h.update(np.ascontiguousarray(part).view(np.uint8).reshape(-1))
    return h.hexdigest()[:16]


def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


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

    parallel: a :class:`minigan.distributed.DataParallel` to train over several processes (each
    takes its rows of every global batch of ``config.batch_size``; only rank 0 writes files and
    prints); default one process.
    """

    def __init__(self, G, D, config, *, data=None, transform=None, real_sampler=None,
                 out_dir=None, device="cpu", image_shape=None, value_range=(-1.0, 1.0),
                 render="gray", grid_scale=1, run_config=None, quiet=False,
                 epoch_metrics=None, step_callbacks=None, say=None, progress=None, parallel=None):
        self.config = cfg = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
        self.device = device
        self.parallel = parallel or SingleProcess()
        self.G, self.D = (self.parallel.prepare(m.to(device)) for m in (G, D))
        dtype = np.dtype(self.G.dtype or np.float32)   # float32, or float64 for checks
        main = self.parallel.is_main                   # other processes write and print nothing
        self.folder = OutputFolder(out_dir if main else None)
        self.batches = Batches(cfg, data=data, transform=transform, real_sampler=real_sampler,
                               device=device, dtype=dtype, parallel=self.parallel)
        self.steps_per_epoch = spe = self.batches.steps_per_epoch
        if image_shape is None and data is not None:
            image_shape = tuple(self.batches.data.shape[1:])
        self.image_shape = tuple(image_shape) if image_shape is not None else None
        self.value_range = tuple(float(v) for v in value_range)
        self.run_config = dict(run_config or {})
        self.epoch_metrics = list(epoch_metrics or [])
        self.step_callbacks = list(step_callbacks or [])
        self.console = Console(spe, cfg.epochs, say=say if main else (lambda message: None),
                               quiet=quiet or not main, progress=progress)

        self.loss_fn = self.parallel.wrap_loss(LOSSES[cfg.loss]())
        self.loss_g = (self.parallel.wrap_loss(nn.GeneratorHingeLoss()) if cfg.loss == "hinge"
                       else None)                           # None: G's loss is ℓ(D(G(z)), 1)
        self.ema = GeneratorAverage(self.G, cfg.ema) if cfg.ema else None   # samples, if on
        self.opt_g = self._make_optimizer(self.G, cfg.lr_g, cfg.betas_g)
        self.opt_d = self._make_optimizer(self.D, cfg.lr_d, cfg.betas_d)

        self.samples = Samples(self.G, self.batches.noise, cfg, ema=self.ema, device=device,
                               dtype=dtype, image_shape=self.image_shape, folder=self.folder,
                               averaged_statistics=self.parallel.size == 1)
        self.grids = Grids(self.folder, spe, render=render, value_range=self.value_range,
                           nrow=cfg.grid_nrow, scale=grid_scale)
        self.metrics = MetricsLog(self.folder, spe, title=self.run_config.get("title"))
        self.health = HealthMonitor(cfg.loss, patience=cfg.health_patience, say=self.console.warn,
                                    probabilities=cfg.loss != "mse",
                                    hard_labels=cfg.real_label == (1.0, 1.0)
                                    and cfg.fake_label == (0.0, 0.0) and cfg.flip_prob == 0,
                                    warmup_steps=spe)
        saved_config = dict(self.run_config, image_shape=list(self.image_shape or ()) or None,
                            value_range=list(self.value_range), render=render)
        self.checkpointer = Checkpointer(
            self.folder, cfg, saved_config, models={"G": self.G, "D": self.D},
            optimizers={"optG": self.opt_g, "optD": self.opt_d}, batches=self.batches,
            samples=self.samples, health=self.health, metrics=self.metrics)
        self.stop = StopSignals(self.console.warn)
        self.step = 0
        self.elapsed = 0.0          # wall seconds of training, summed over resumed runs
        self.resumed_from = None
        self.last = {}              # the last step's arrays: real, fake, z (for callbacks)
        self.diversity = None

    def _make_optimizer(self, module, lr, betas):
        if self.config.optimizer == "adam":
            return self.parallel.wrap_optimizer(optim.Adam(module.parameters(), lr=lr, betas=betas))
        return self.parallel.wrap_optimizer(optim.SGD(module.parameters(), lr=lr))

    # ------------------------------------------------------------------------- one step
    def train_step(self, real):
        """One D step and one G step on a real batch; returns the step's numbers."""
        # BCELoss takes log(1 − p) of p = 1 before clamping at −100 (as PyTorch does): the
        # clamped result is right, only NumPy's divide-by-zero warning is noise.
        with np.errstate(divide="ignore"):
            B = real.shape[0] * self.parallel.size              # the global batch
            z = self.parallel.shard(self.batches.sample_noise(B))
            t_real, t_fake = (self.parallel.shard(t) for t in self.batches.make_labels(B))
            self.G.train()
            self.D.train()
            with self.parallel.sharding(B, self.G, self.D):     # Dropout: masks of the global batch
                fake = self.G(z)
                self.last = {"real": real, "z": z, "fake": fake}
                d = self.discriminator_step(real, fake, t_real, t_fake)
                g = self.generator_step(fake)
            if self.ema is not None:
                self.ema.update(self.G)
            return dict(d, **g)

    def discriminator_step(self, real, fake, t_real, t_fake):
        """D.zero_grad(); backward on the real batch, then on the fake batch; optD.step()."""
        return discriminator_step(self.D, self.opt_d, self.loss_fn, self.config.loss, real, fake,
                                  t_real, t_fake)

    def generator_step(self, fake):
        """Non-saturating G step: loss ℓ(D(fake), 1) (hinge: −D(fake)), gradient through D into G."""
        return generator_step(self.G, self.D, self.opt_g, self.loss_g or self.loss_fn, fake)

    # ------------------------------------------------------------------------- the loop
    def target_steps(self):
        cfg = self.config
        target = cfg.epochs * self.steps_per_epoch
        return min(target, cfg.max_steps) if cfg.max_steps else target

    def fit(self):
        """Train up to ``target_steps()``; returns a summary dict.

        Ctrl-C (SIGINT) or SIGTERM (what ``kill``, schedulers and container stops send)
        finishes the current step, saves a checkpoint and raises :class:`TrainingInterrupted`
        (a KeyboardInterrupt carrying the signal; a second one aborts at once without saving).
        A NaN/inf loss saves ``checkpoint_nonfinite.npz`` and raises :class:`TrainingDiverged`.
        """
        if self.parallel.size > 1:                          # before any write or broadcast
            self.parallel.check_same(shared_settings(self))
        target = self.target_steps()
        stale = self.folder.prepare() if self.folder else 0
        if stale:
            self.console.warn(f"removed {stale} temporary file(s) left by an interrupted write")
        if self.folder and self.resumed_from is None and self.folder.holds_a_run():
            foreign = foreign_file(self.folder.final)
            if foreign:                 # not a minigan run's: never replaced
                raise ValueError(f"{foreign[0]}: a new run would replace it, but it is {foreign[1]}; "
                                 f"move it away or choose another output folder")
            self.folder.stage()         # the old run's files stay until the first checkpoint
        if self.health.real_diversity is None:
            real = asnumpy(self.batches.real_sample(self.config.n_fixed,
                                                    np.random.default_rng([self.config.seed, 4])))
            self.health.real_diversity = mean_pairwise_distance(real) if len(real) > 1 else None
        if self.step >= target:
            self.console.say(f"nothing to train: the run is at step {self.step} and the target is "
                             f"{target} (raise --epochs or --max-steps to continue)")
            self._write_outputs()
            return self.summary()
        if self.step == 0:                          # what G makes before any training
            self.grids.hold(self._fixed_noise_samples())
        self.parallel.broadcast(self.G, self.D)             # every process: rank 0's weights
        start, elapsed_at_start = time.perf_counter(), self.elapsed
        try:
            with self.stop.installed():
                self._loop(target, lambda: elapsed_at_start + time.perf_counter() - start)
        except NonFiniteLossError as e:
            self.console.close_bar()
            raise self._diverged(e) from None
        finally:
            self.console.close_bar()
        self._finish()
        return self.summary()

    def _loop(self, target, clock):
        cfg, spe = self.config, self.steps_per_epoch
        while self.step < target:
            epoch, pos = divmod(self.step, spe)
            if pos == 0:
                self.batches.new_epoch()
                self.metrics.new_epoch()
            self.console.open_bar(epoch, pos)
            while pos < spe and self.step < target:
                t0 = time.perf_counter()
                real = self.batches.real_batch(pos)
                stats, self.stop.requested = self.parallel.agree(self.train_step(real),
                                                                 self.stop.requested)
                dt = time.perf_counter() - t0
                self.step += 1
                pos += 1
                if self.grids.held is not None:       # the first step worked: a new run's
                    self.grids.release()              # grids replace the folder's old ones
                self.elapsed = clock()
                self._after_step(stats, dt, real.shape[0] * self.parallel.size)
                if pos == spe:
                    self._end_epoch()
                else:
                    if cfg.sample_every and self.step % cfg.sample_every == 0:
                        self._save_grid(epoch_end=False)
                    elif self.step % self._diversity_every() == 0:
                        self._fixed_noise_samples()
                    if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                        self.save_checkpoint()
                if self.stop.requested:
                    self._interrupted()
            self.console.close_bar()

    def _after_step(self, stats, dt, batch):
        self.metrics.add_step(stats, dt, batch)
        self.health.check_step(self.step, stats["loss_D"], stats["loss_G"], stats["D_x"],
                               stats["D_G_z"])
        if self.step % self.config.log_every == 0:
            row = self.metrics.step_row(self.step, self.elapsed)
            for fn in self.step_callbacks:
                row.update(fn(self, row) or {})
            self.history.append(row)
        self.console.step_done(self.step, stats, dt, batch)

    def _end_epoch(self):
        epoch = self.step // self.steps_per_epoch
        self._save_grid(epoch_end=True)
        row = self.metrics.epoch_row(self.step, self.elapsed, self.diversity)
        extras = {}
        if self.epoch_metrics and self.parallel.is_main:
            mg_state, own = rng_state(), self.batches.rng.bit_generator.state
            try:
                for fn in self.epoch_metrics:
                    extras.update(fn(self) or {})
            finally:
                set_rng_state(mg_state)
                self.batches.rng.bit_generator.state = own
        row.update(extras)
        self.history.append(row)
        self.console.close_bar()
        line = (f"epoch {epoch}/{self.config.epochs}  step {self.step}  loss_D {row['loss_D']:.4f}  "
                f"loss_G {row['loss_G']:.4f}  D(x) {row['D_x']:.3f}  D(G(z)) {row['D_G_z']:.3f}  "
                f"diversity {self.diversity:.3f}  {row['epoch_time']:.1f} s "
                f"({row['images_per_s'] or 0:.0f} img/s)")
        if extras:
            line += "  " + "  ".join(f"{k} {_fmt(v)}" for k, v in extras.items())
        self.console.say(line)
        self._write_outputs()
        self.save_checkpoint()

    def _finish(self):
        if self.step % self.steps_per_epoch != 0:       # stopped mid-epoch (max_steps)
            self._save_grid(epoch_end=False)
        self._write_outputs()
        if self.checkpointer.saved_at != self.step:
            self.save_checkpoint()

    def _interrupted(self):
        signum = int(self.stop.requested)
        self.console.close_bar()
        self._write_outputs()
        path = self.save_checkpoint()
        self.stop.requested = False
        self.console.say(f"interrupted at step {self.step}: checkpoint saved to {path}")
        raise TrainingInterrupted(signum)

    def _diverged(self, err):
        """Save the state a NaN/inf loss came from (marked "nonfinite") and say what to do."""
        path = self.path(NONFINITE_CHECKPOINT)
        where = f"step {self.step + 1} (epoch {self.step // self.steps_per_epoch + 1})"
        if path is not None:
            self.checkpointer.save(self.step, self.elapsed, path, status="nonfinite",
                                   note=f"{err.name} = {err.value} at {where}")
        self._write_outputs()
        good = os.path.join(self.folder.final, CHECKPOINT) if self.folder else None
        kept = (f"; the last good checkpoint {good} is untouched"
                if good and os.path.isfile(good) else "")
        msg = (f"{err.name} became {err.value} at {where}: training stopped. The state that "
               f"produced it is saved in {path} (marked 'nonfinite', for inspection){kept}. "
               f"Try lower learning rates.")
        return TrainingDiverged(msg, path, self.step + 1)

    # ------------------------------------------------------------------------- samples and files
    def _fixed_noise_samples(self):
        """G's samples of the fixed noise; their diversity goes to the health monitor (not for a
        generator without noise, whose samples are identical by design)."""
        images = self.samples.generate(self.samples.fixed_noise)
        self.diversity = mean_pairwise_distance(images)
        if self.config.noise != "ones":
            self.health.check_diversity(self.step, self.diversity)
        return images

    def _save_grid(self, epoch_end):
        return self.grids.write(self._fixed_noise_samples(), self.step, epoch_end)

    def _diversity_every(self):
        return self.config.diversity_every or max(10, self.steps_per_epoch // 4)

    def _write_outputs(self):
        self.metrics.write()
        self.metrics.plot()
        self.grids.make_gif(self.step)

    def path(self, name):
        """``out_dir/name`` (None without an output folder)."""
        return self.folder.path(name)

    def save_checkpoint(self, path=None, status="ok", note=None):
        """Write the checkpoint (default ``out_dir/checkpoint.npz``) atomically."""
        return self.checkpointer.save(self.step, self.elapsed, path, status, note)

    def load_checkpoint(self, path=None):
        """Restore a checkpoint written by :meth:`save_checkpoint` (models, optimizers, RNG
        states, position in the epoch, health counters, metrics history from metrics.csv).
        All or nothing: if any part does not fit, the trainer is left exactly as it was and a
        ValueError names the file and the part."""
        meta = self.checkpointer.load(path)
        self.step, self.elapsed = int(meta["step"]), float(meta["elapsed"])
        self.grids.remove_after(self.step)      # grids of steps the checkpoint has not seen
        self.resumed_from = self.step           # (a crash after them) are redone
        return meta

    def summary(self):
        epochs = [r for r in self.history if r.get("kind") == "epoch"]
        return {"step": self.step, "epoch": self.step / self.steps_per_epoch,
                "elapsed": self.elapsed, "checkpoint": self.path(CHECKPOINT),
                "last_epoch": epochs[-1] if epochs else None, "diversity": self.diversity,
                "warnings": dict(self.health.issued)}

    # ------------------------------------------------------------------------- the parts' state, by name
    history = property(lambda self: self.metrics.history, doc="The metrics rows (dicts).")
    rng = property(lambda self: self.batches.rng, doc="The trainer's NumPy Generator.")
    n_data = property(lambda self: self.batches.n_data)
    fixed_noise = property(lambda self: self.samples.fixed_noise)
    out_dir = property(lambda self: self.folder.root)

    @property
    def perm(self):
        """The epoch's order of the data."""
        return self.batches.perm

    @perm.setter
    def perm(self, value):
        self.batches.perm = value

    def generate(self, z, batch=256):
        """G(z) in eval mode, as NumPy (n, *image_shape) (:meth:`Samples.generate`)."""
        return self.samples.generate(z, batch)

    def sample(self, n, seed=None):
        """n samples of the current generator (:meth:`Samples.sample`)."""
        return self.samples.sample(n, seed)

    def export_samples(self, n, path=None, seed=None):
        """Write n samples to ``path`` (default OUT/samples.npy) (:meth:`Samples.export`)."""
        return self.samples.export(n, path, seed)

    def grid_files(self):
        """(step, path) of the grids written so far (up to the current step), in step order."""
        return self.grids.files(self.step)

    def _real_batch(self, pos):
        return self.batches.real_batch(pos)

    def _noise(self, gen, n):
        return self.batches.noise(gen, n)
