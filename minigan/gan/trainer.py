"""GANTrainer: alternating discriminator and generator steps, with logging, health checks,
sample grids, plots, checkpoints and exact resume.

Each step: fake = G(z) once, then the D step and the G step of steps.py (plain functions,
the same lines examples/dcgan_from_scratch.py writes out). The rest of the trainer is split by
concern: batches.py (real batch, noise, targets), metrics_log.py (history, metrics.csv,
losses.png), grids.py (sampling, grids, GIF, exports), run_state.py (checkpoints), progress.py
(messages and the progress bar); minigan/distributed/ runs it over several processes.

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
import os
import signal
import threading
import time

import numpy as np

from .. import nn, optim
from ..backend import rng_state, set_rng_state, to_device
from .checkpoint import remove_stale_temp_files
from .batches import Batches
from ..distributed.data_parallel import SingleProcess
from .config import TrainConfig
from .ema import GeneratorAverage
from .grids import GRID_DIR, GRID_FILE, LATEST_GRID, PROGRESS_GIF, Samples
from .health import HealthMonitor
from .metrics_log import CSV_COLUMNS, LOSSES_PNG, METRICS, MetricsLog
from .preflight import OUTPUT_FILES
from .progress import Progress
from .run_state import CHECKPOINT, NONFINITE_CHECKPOINT, RunState, TrainingDiverged, TrainingInterrupted
from .steps import NonFiniteLossError, discriminator_step, finite, generator_step, mean_probability

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
PICTURE = r"[^/\\]+\.(?:png|gif)"     # losses.png, grid_latest.png, progress.gif, the hooks' plots

__all__ = ["TrainConfig", "GANTrainer", "NonFiniteLossError", "TrainingDiverged", "TrainingInterrupted",
           "CHECKPOINT", "NONFINITE_CHECKPOINT", "METRICS", "LOSSES_PNG", "PROGRESS_GIF",
           "GRID_DIR", "LATEST_GRID", "CSV_COLUMNS"]


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


class GANTrainer(Batches, MetricsLog, Samples, RunState, Progress):
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
        if (data is None) == (real_sampler is None):
            raise ValueError("give exactly one of data (an array) or real_sampler (a function)")
        self.config = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
        cfg = self.config
        self.device = device
        self.parallel = parallel or SingleProcess()
        self.G, self.D = (self.parallel.prepare(m.to(device)) for m in (G, D))
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
        main = self.parallel.is_main                 # other processes write and print nothing
        self.out_dir = out_dir if main else None
        self.quiet = quiet or not main
        self.epoch_metrics = list(epoch_metrics or [])
        self.step_callbacks = list(step_callbacks or [])
        self._say_fn = say if main else (lambda message: None)
        self.progress = progress   # None: a tqdm bar when stderr is a terminal and not quiet

        self.loss_fn = self.parallel.wrap_loss({"bce_logits": nn.BCEWithLogitsLoss, "bce": nn.BCELoss,
                                                "mse": nn.MSELoss, "hinge": nn.HingeLoss}[cfg.loss]())
        self.loss_g = (self.parallel.wrap_loss(nn.GeneratorHingeLoss()) if cfg.loss == "hinge"
                       else None)                           # None: G's loss is ℓ(D(G(z)), 1)
        self.ema = GeneratorAverage(self.G, cfg.ema) if cfg.ema else None   # samples, if on
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
            return self.parallel.wrap_optimizer(optim.Adam(module.parameters(), lr=lr, betas=betas))
        return self.parallel.wrap_optimizer(optim.SGD(module.parameters(), lr=lr))

    # ------------------------------------------------------------------------- output helpers
    def path(self, name):
        return None if self.out_dir is None else os.path.join(self.out_dir, name)

    # ------------------------------------------------------------------------- one step
    def prob(self, out):
        """Mean of D's output as a probability (sigmoid of logits for bce_logits)."""
        return float(mean_probability(out, self.config.loss))

    def _check(self, name, value):
        return finite(name, value)

    def train_step(self, real):
        """One D step and one G step on a real batch; returns the step's numbers."""
        # BCELoss takes log(1 − p) of p = 1 before clamping at −100 (as PyTorch does): the
        # clamped result is right, only NumPy's divide-by-zero warning is noise.
        with np.errstate(divide="ignore"):
            return self._train_step(real)

    def _train_step(self, real):
        B = real.shape[0] * self.parallel.size              # the global batch
        z = self.parallel.shard(self.sample_noise(B))
        t_real, t_fake = (self.parallel.shard(t) for t in self.make_labels(B))
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

    def _write_outputs(self):
        self.write_metrics()
        self.plot()
        self.make_gif()

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
        target = self.target_steps()
        if self.out_dir is not None:
            os.makedirs(self.out_dir, exist_ok=True)
            self._remove_stale_temp_files()
        if self.health.real_diversity is None:
            self.health.real_diversity = self._real_diversity()
        if self.step >= target:
            self._say(f"nothing to train: the run is at step {self.step} and the target is "
                      f"{target} (raise --epochs or --max-steps to continue)")
            self._write_outputs()
            return self.summary()
        if self.step == 0:
            self._begin_grids()                     # what G makes before any training
        previous = {}
        if threading.current_thread() is threading.main_thread():
            previous = {s: signal.signal(s, self._on_stop_signal) for s in STOP_SIGNALS}
        self.parallel.broadcast(self.G, self.D)             # every process: rank 0's weights
        self._fit_start = time.perf_counter()
        self._elapsed_at_start = self.elapsed
        try:
            self._loop(target)
        except NonFiniteLossError as e:
            self._close_bar()
            raise self._diverged(e) from None
        finally:
            self._close_bar()
            for s, handler in previous.items():
                signal.signal(s, handler)
        self._finish()
        return self.summary()

    def _remove_stale_temp_files(self):
        """Delete the temporary files (``<name>.<random>.tmp``) that writes cut off by a kill left
        of every file the run writes: its data files and pictures, and the grids in GRID_DIR."""
        stale = remove_stale_temp_files(self.out_dir, OUTPUT_FILES, name_regex=PICTURE)
        stale += remove_stale_temp_files(self.path(GRID_DIR), name_regex=GRID_FILE)
        if stale:
            self._warn(f"removed {len(stale)} temporary file(s) left by an interrupted write")

    def _on_stop_signal(self, signum, frame):
        if self._stop_requested:
            raise TrainingInterrupted(signum)
        self._stop_requested = signum
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        self._warn(f"\n{name}: finishing this step, then saving a checkpoint "
                   f"(press Ctrl-C again to stop at once without saving)")

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
                stats, self._stop_requested = self.parallel.agree(self.train_step(real),
                                                                  self._stop_requested)
                dt = time.perf_counter() - t0
                self.step += 1
                pos += 1
                if self._step0_images is not None:        # the first step worked: a new run's
                    self._replace_old_grids()             # grids replace the folder's old ones
                self.elapsed = self._clock()
                self._after_step(stats, dt, real.shape[0] * self.parallel.size)
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

    def _end_epoch(self):
        epoch = self.step // self.steps_per_epoch
        self._save_grid(epoch_end=True)
        row = self._row("epoch", self._epoch_acc)
        row["diversity"] = self.diversity
        row["epoch_time"] = round(self._epoch_acc["seconds"], 3)
        extras = {}
        if self.epoch_metrics and self.parallel.is_main:
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

    def summary(self):
        epochs = [r for r in self.history if r.get("kind") == "epoch"]
        return {"step": self.step, "epoch": self.step / self.steps_per_epoch,
                "elapsed": self.elapsed, "checkpoint": self.path(CHECKPOINT),
                "last_epoch": epochs[-1] if epochs else None, "diversity": self.diversity,
                "warnings": dict(self.health.issued)}

