"""The trainer's checkpoint: everything needed to continue a run exactly, in one file
(minigan.files.checkpoint's format), and the check that a file holds all of it."""
import math
import numbers
import os
import time

from ..backend import rng_state, set_rng_state
from ..files.checkpoint import (CheckpointError, flatten_optimizer_state, load_checkpoint, save_checkpoint,
                                subdict, unflatten_optimizer_state)
from .outputs import CHECKPOINT

__all__ = ["Checkpointer", "check_trainer_meta", "META_TYPES", "PREFIXES"]

PREFIXES = ("G", "D", "G_ema", "optG", "optD", "trainer")     # the members a trainer reads


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
    if not isinstance(meta["mg_rng"].get("cpu"), dict):
        bad("mg_rng", "an object with minigan's CPU generator state under 'cpu'")
    for opt in ("optG", "optD"):
        if not isinstance(meta["optimizers"].get(opt), dict):
            raise CheckpointError(f"{path}: its optimizers entry has no {opt!r} object")
    if not isinstance(meta.get("status", "ok"), str):
        bad("status", "a string")


class Checkpointer:
    """Saves and restores a run's state: the models and optimizers it is given, and the state of
    the parts that hold the rest — ``batches`` (random stream, epoch order), ``samples`` (fixed
    noise, averaged generator), ``health`` (warning counters), ``metrics`` (running sums; the
    history is metrics.csv) — plus minigan's own random generators. The trainer's position
    (step, elapsed seconds) is passed in and handed back.

    config: the TrainConfig; run_config: the JSON-able rest saved with it (how to rebuild the run).
    """

    def __init__(self, folder, config, run_config, *, models, optimizers, batches, samples, health,
                 metrics):
        self.folder, self.config, self.run_config = folder, config, run_config
        self.models, self.optimizers = models, optimizers           # {"G": G, ...}, {"optG": ...}
        self.batches, self.samples, self.health, self.metrics = batches, samples, health, metrics
        self.saved_at = None            # the step of the last "ok" checkpoint written or read

    def state(self, step, elapsed):
        """(arrays, meta) describing everything needed to continue exactly."""
        arrays = {f"{prefix}/{k}": v for prefix, m in self.models.items()
                  for k, v in m.state_dict().items()}
        opt_meta = {}
        for prefix, opt in self.optimizers.items():
            a, rest = flatten_optimizer_state(opt.state_dict(), prefix)
            arrays.update(a)
            opt_meta[prefix] = rest
        sample_arrays, sample_meta = self.samples.state()
        batch_arrays, batch_meta = self.batches.state()
        arrays.update(sample_arrays, **batch_arrays)
        spe = self.batches.steps_per_epoch
        meta = dict({"status": "ok", "step": step, "epoch": step // spe, "steps_per_epoch": spe,
                     "n_data": self.batches.n_data, "elapsed": elapsed},
                    **batch_meta, mg_rng=rng_state(), optimizers=opt_meta,
                    health=self.health.state_dict(), **self.metrics.state(), **sample_meta,
                    config=dict(self.run_config, train=self.config.to_dict()),
                    saved_at=time.strftime("%Y-%m-%d %H:%M:%S"))
        return arrays, meta

    def save(self, step, elapsed, path=None, status="ok", note=None):
        """Write the checkpoint (default ``OUT/checkpoint.npz``) atomically; an "ok" one after
        metrics.csv, so a crash after it loses no rows. Returns the path (None: no folder)."""
        default = path is None
        path = path or self.folder.path(CHECKPOINT)
        if path is None:
            return None
        arrays, meta = self.state(step, elapsed)
        meta["status"] = status
        if note:
            meta["note"] = note
        if status == "ok":
            self.metrics.write()
        save_checkpoint(path, arrays, meta)
        if status == "ok":
            self.saved_at = step
            if default and self.folder.staged:      # a new run's first: it replaces the old run
                self.folder.commit()
                path = self.folder.path(CHECKPOINT)
        return path

    def load(self, path=None):
        """Restore a checkpoint written by :meth:`save`; returns its meta (with "step" and
        "elapsed"). All or nothing: if any part does not fit, every part is left exactly as it
        was and a ValueError names the file and the part."""
        path = path or self.folder.path(CHECKPOINT)
        try:
            arrays, meta = load_checkpoint(path, prefixes=PREFIXES, expected=self._expected_shapes())
        except CheckpointError as e:
            if not os.path.isfile(path):
                raise
            what = str(e)[len(f"{path}: "):] if str(e).startswith(f"{path}: ") else str(e)
            raise CheckpointError(f"{path}: cannot resume from this checkpoint ({what}); nothing "
                                  f"was changed") from None
        before = self._snapshot()
        try:
            self._restore(path, arrays, meta)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
            self._rollback(before)
            what = f"missing entry {e}" if isinstance(e, KeyError) else str(e)
            raise ValueError(f"{path}: cannot resume from this checkpoint ({what}); nothing was "
                             f"changed") from None
        self.saved_at = int(meta["step"])
        return meta

    def _expected_shapes(self):
        """{member: shape} of every array this run's checkpoint holds: checked in each member's
        header before its data are read (a member declaring 1 GiB is refused unread)."""
        shapes = {f"{prefix}/{k}": tuple(v.shape) for prefix, m in self.models.items()
                  for k, v in m.state_dict().items()}
        if self.samples.ema is not None:
            shapes.update({f"G_ema/{k}": tuple(v.shape)
                           for k, v in self.samples.ema.model.state_dict().items()})
        for prefix, opt in self.optimizers.items():       # (a data-parallel wrapper passes these on)
            for i, p in enumerate(opt.params):
                shapes.update({f"{prefix}/{i}/{k}": tuple(p.shape) for k in opt.STATE_ARRAYS})
        shapes["trainer/fixed_noise"] = tuple(self.samples.fixed_noise.shape)
        if self.batches.n_data is not None:
            shapes["trainer/perm"] = (self.batches.n_data,)
        return shapes

    def _restore(self, path, arrays, meta):
        check_trainer_meta(meta, path)
        if meta.get("status", "ok") != "ok":
            raise ValueError(f"{path} is marked {meta['status']!r} (saved when training failed); "
                             f"it is kept for inspection and cannot be resumed")
        b = self.batches
        if meta["steps_per_epoch"] != b.steps_per_epoch or meta.get("n_data") != b.n_data:
            raise ValueError(
                f"{path} was saved with {meta.get('n_data')} training samples and "
                f"{meta['steps_per_epoch']} steps per epoch, but this run has {b.n_data} and "
                f"{b.steps_per_epoch}: the data set or batch size changed, so the run cannot "
                f"continue exactly")
        for prefix, m in self.models.items():
            m.load_state_dict(subdict(arrays, prefix))
        self.samples.load_state(arrays, meta)
        for prefix, opt in self.optimizers.items():
            opt.load_state_dict(unflatten_optimizer_state(arrays, meta["optimizers"][prefix], prefix))
        self.batches.load_state(arrays, meta)
        set_rng_state(meta["mg_rng"])
        self.health.load_state_dict(meta["health"])
        self.metrics.load_state(meta, int(meta["step"]))

    def _snapshot(self):
        """Copies of everything :meth:`_restore` may change."""
        copy = lambda m: {k: v.copy() for k, v in m.state_dict().items()}     # noqa: E731
        ema = self.samples.ema
        return ({p: copy(m) for p, m in self.models.items()},
                {p: opt.state_dict() for p, opt in self.optimizers.items()},
                (self.batches.perm, self.batches.rng.bit_generator.state), rng_state(),
                self.health.state_dict(),
                (self.metrics.history, self.metrics.epoch_acc, self.metrics.log_acc),
                (self.samples.fixed_noise, copy(ema.model) if ema else None, ema and ema.updates))

    def _rollback(self, snapshot):
        models, optimizers, (perm, own_rng), mg_rng, health, metrics, samples = snapshot
        for p, m in self.models.items():
            m.load_state_dict(models[p])
        for p, opt in self.optimizers.items():
            opt.load_state_dict(optimizers[p])
        self.batches.perm, self.batches.rng.bit_generator.state = perm, own_rng
        set_rng_state(mg_rng)
        self.health.load_state_dict(health)
        self.metrics.history, self.metrics.epoch_acc, self.metrics.log_acc = metrics
        self.samples.fixed_noise = samples[0]
        if self.samples.ema is not None:
            self.samples.ema.model.load_state_dict(samples[1])
            self.samples.ema.updates = samples[2]
