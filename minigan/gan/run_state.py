"""The trainer's checkpoint: everything needed to continue a run exactly, in one file."""
import math
import numbers
import os
import time

from ..backend import rng_state, set_rng_state
from .checkpoint import (CheckpointError, flatten_optimizer_state, load_checkpoint, save_checkpoint,
                         subdict, unflatten_optimizer_state)

CHECKPOINT = "checkpoint.npz"
NONFINITE_CHECKPOINT = "checkpoint_nonfinite.npz"


# the entries of a trainer checkpoint's JSON part and their types
META_TYPES = {"step": int, "steps_per_epoch": int, "elapsed": numbers.Real, "rng": dict,
              "mg_rng": dict, "optimizers": dict, "health": dict, "epoch_acc": dict, "log_acc": dict,
              "config": dict}


def check_trainer_meta(meta, path):
    """Raise CheckpointError (naming ``path``, the entry, its value and what is expected) unless
    the JSON part of a checkpoint has every entry GANTrainer needs, with the right type and range.
    Run before anything is loaded, so a hand-edited or foreign file changes nothing."""
    def bad(key, expected):
        value = meta.get(key)
        shown = repr(value) if len(repr(value)) < 60 else type(value).__name__
        raise CheckpointError(f"{path}: its entry {key!r} is {shown}, expected {expected} (a damaged "
                              f"or hand-edited checkpoint?)")
    for key, kind in META_TYPES.items():
        if key not in meta:
            raise CheckpointError(f"{path}: the checkpoint has no {key!r} entry (it was not written by "
                                  f"GANTrainer, or it was edited)")
        if isinstance(meta[key], bool) or not isinstance(meta[key], kind):
            bad(key, {int: "an integer", numbers.Real: "a number", dict: "a JSON object"}[kind])
    if meta["step"] < 0:
        bad("step", "an integer >= 0")
    if meta["steps_per_epoch"] < 1:
        bad("steps_per_epoch", "an integer >= 1")
    if not (math.isfinite(meta["elapsed"]) and meta["elapsed"] >= 0):
        bad("elapsed", "a finite number of seconds >= 0")
    n_data = meta.get("n_data")
    if n_data is not None and (isinstance(n_data, bool) or not isinstance(n_data, int) or n_data < 1):
        bad("n_data", "null or an integer >= 1")
    if not isinstance(meta["config"].get("train"), dict):
        raise CheckpointError(f"{path}: its config has no 'train' object (the training settings)")
    for opt in ("optG", "optD"):
        if not isinstance(meta["optimizers"].get(opt), dict):
            raise CheckpointError(f"{path}: its optimizers entry has no {opt!r} object")
    if not isinstance(meta.get("status", "ok"), str):
        bad("status", "a string")


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
        if self.ema is not None:      # (with its standing statistics, if the run uses them)
            arrays.update({f"G_ema/{k}": v for k, v in self.sampling_generator.state_dict().items()})
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
            "ema_updates": self.ema.updates if self.ema is not None else None,
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
        ema = (copy(self.ema.model), self.ema.updates) if self.ema is not None else None
        return (copy(self.G), copy(self.D), self.opt_g.state_dict(), self.opt_d.state_dict(),
                self.rng.bit_generator.state, rng_state(), self.health.state_dict(),
                dict(self.__dict__), ema)

    def _rollback(self, snapshot):
        g, d, opt_g, opt_d, own_rng, mg_rng, health, attributes, ema = snapshot
        self.__dict__.update(attributes)
        if ema is not None:
            self.ema.model.load_state_dict(ema[0])
            self.ema.updates = ema[1]
        self.G.load_state_dict(g)
        self.D.load_state_dict(d)
        self.opt_g.load_state_dict(opt_g)
        self.opt_d.load_state_dict(opt_d)
        self.rng.bit_generator.state = own_rng
        set_rng_state(mg_rng)
        self.health.load_state_dict(health)

    def _restore(self, path, arrays, meta):
        check_trainer_meta(meta, path)
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
        if self.ema is not None:
            if not isinstance(meta.get("ema_updates"), int):
                raise ValueError("it holds no averaged generator (trained without --ema)")
            self.ema.model.load_state_dict(subdict(arrays, "G_ema"))
            self.ema.updates = meta["ema_updates"]
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
               f"Try lower learning rates.")
        return TrainingDiverged(msg, path, self.step + 1)
