"""The trainer's checkpoint: everything needed to continue a run exactly, in one file."""
import os
import time

from ..backend import rng_state, set_rng_state
from .checkpoint import (flatten_optimizer_state, load_checkpoint, save_checkpoint, subdict,
                         unflatten_optimizer_state)

CHECKPOINT = "checkpoint.npz"
NONFINITE_CHECKPOINT = "checkpoint_nonfinite.npz"


class TrainingDiverged(RuntimeError):
    """Training stopped on a non-finite loss; ``checkpoint`` is the file holding that state."""

    def __init__(self, message, checkpoint, step):
        super().__init__(message)
        self.checkpoint, self.step = checkpoint, step


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on a signal (SIGINT: Ctrl-C, or SIGTERM) after saving a checkpoint;
    ``signum`` is the signal, so a command line can exit with 128 + signum."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = int(signum)


class RunState:
    """GANTrainer's part that saves and restores its state (models, optimizers, random
    streams, position in the epoch, health, accumulators, metrics history)."""

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
        if status == "ok":
            self.write_metrics()       # the rows up to this step, so a crash after it loses none
        save_checkpoint(path, arrays, meta)
        if status == "ok":
            self._saved_at = self.step
        return path

    def load_checkpoint(self, path=None):
        """Restore a checkpoint written by :meth:`save_checkpoint` (models, optimizers, RNG
        states, position in the epoch, health counters, metrics history from metrics.csv).
        All or nothing: if any part does not fit, the trainer is left exactly as it was and a
        ValueError names the file and the part."""
        path = path or self.path(CHECKPOINT)
        arrays, meta = load_checkpoint(path)
        before = self._snapshot()
        try:
            return self._restore(path, arrays, meta)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
            self._rollback(before)
            what = f"missing entry {e}" if isinstance(e, KeyError) else str(e)
            raise ValueError(f"{path}: cannot resume from this checkpoint ({what}); nothing was "
                             f"changed") from None

    def _snapshot(self):
        """Copies of everything :meth:`_restore` may change."""
        copy = lambda m: {k: v.copy() for k, v in m.state_dict().items()}     # noqa: E731
        return (copy(self.G), copy(self.D), self.opt_g.state_dict(), self.opt_d.state_dict(),
                self.rng.bit_generator.state, rng_state(), self.health.state_dict(),
                dict(self.__dict__))

    def _rollback(self, snapshot):
        g, d, opt_g, opt_d, own_rng, mg_rng, health, attributes = snapshot
        self.__dict__.update(attributes)
        self.G.load_state_dict(g)
        self.D.load_state_dict(d)
        self.opt_g.load_state_dict(opt_g)
        self.opt_d.load_state_dict(opt_d)
        self.rng.bit_generator.state = own_rng
        set_rng_state(mg_rng)
        self.health.load_state_dict(health)

    def _restore(self, path, arrays, meta):
        step = meta.get("step")
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"its step is {step!r}, expected an integer >= 0")
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

    def _interrupted(self):
        signum = int(self._stop_requested)
        self._close_bar()
        self._write_outputs()
        path = self.save_checkpoint()
        self._stop_requested = False
        self._say(f"interrupted at step {self.step}: checkpoint saved to {path}")
        raise TrainingInterrupted(signum)

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
