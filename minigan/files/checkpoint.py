"""Checkpoints: one ``.npz`` file holding arrays plus a JSON document, written atomically.

Layout of a checkpoint file:

    "G/<name>", "D/<name>"            generator / discriminator ``state_dict`` arrays
    "G_ema/<name>"                    the average of G's weights (with --ema; it samples)
    "optG/<i>/<key>", "optD/<i>/<key>" optimizer state arrays (Adam's exp_avg, exp_avg_sq, ...)
    "trainer/<name>"                  the trainer's arrays (epoch permutation, fixed noise)
    "__meta__"                        a 0-d unicode array: JSON with everything else — step,
                                      epoch, RNG states, optimizer hyper-parameters and scalar
                                      state, the run's configuration, the status ("ok",
                                      "nonfinite")

Only plain arrays and a JSON string: loading never needs pickle (``allow_pickle=False``).

The file is written with :func:`minigan.files.atomic.atomic_write`: a crash at any moment
leaves either the old checkpoint or the new one, never a half-written file.
"""
import json
import os

import numpy as np

from ..backend import asnumpy
from .atomic import atomic_write
from .npz import NpzError, NpzReader

__all__ = ["save_checkpoint", "load_checkpoint", "read_meta", "generator_weights", "subdict",
           "flatten_optimizer_state", "unflatten_optimizer_state", "CheckpointError", "FORMAT"]

FORMAT = "minigan-gan-checkpoint"
VERSION = 1
META_KEY = "__meta__"


class CheckpointError(ValueError):
    """A file that is missing, unreadable or not a minigan GAN checkpoint."""


def _write_npz(f, arrays):
    """The actual serialisation (a separate function so tests can make it fail midway)."""
    np.savez(f, **arrays)


def save_checkpoint(path, arrays, meta):
    """Write ``arrays`` (name -> array; GPU arrays are copied to the host) and the JSON-able
    ``meta`` dict into one ``.npz`` at ``path``, atomically. Returns ``path``."""
    payload = {k: np.asarray(asnumpy(v)) for k, v in arrays.items()}
    if META_KEY in payload:
        raise ValueError(f"array name {META_KEY!r} is reserved")
    doc = dict(meta, format=FORMAT, version=VERSION)
    payload[META_KEY] = np.array(json.dumps(doc))
    return atomic_write(path, lambda f: _write_npz(f, payload))


def load_checkpoint(path, prefixes=None, expected=None):
    """Read a checkpoint: returns ``(arrays, meta)`` (dict of NumPy arrays, dict).

    prefixes: read only the members ``prefix/...`` of these prefixes (None: every member);
    the others are never inflated. expected: ``{name: shape}`` of members whose shape the caller
    knows; each member's header is checked against it (and against the zip's record of its
    size) before its data are read. Arrays holding NaN or inf are refused, except in a
    checkpoint marked "nonfinite" (kept for inspection). Raises :class:`CheckpointError`
    naming the file and the member."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"no checkpoint file at {path}")
    expected = expected or {}
    try:
        with NpzReader(path) as z:
            meta = _read_meta(z, path)
            arrays = {name: z.read(name, shape=expected.get(name)) for name in z.names
                      if name != META_KEY and (prefixes is None or name.split("/", 1)[0] in prefixes)}
    except NpzError as e:
        raise CheckpointError(str(e)) from None
    if meta.get("status", "ok") != "nonfinite":
        for name, a in arrays.items():
            if a.dtype.kind == "f" and not np.isfinite(a).all():
                bad = int(a.size - np.isfinite(a).sum())
                raise CheckpointError(f"{path}: {name!r} holds {bad:,} NaN or inf value(s) of "
                                      f"{a.size:,}: the checkpoint is not usable (damaged, or saved "
                                      f"from a run that had diverged)")
    return arrays, meta


def _read_meta(z, path):
    if META_KEY not in z.names:
        raise CheckpointError(f"{path} is an .npz file but not a minigan checkpoint (no {META_KEY})")
    try:
        meta = json.loads(str(z.read(META_KEY, text=True)))
    except ValueError as e:
        if isinstance(e, NpzError):
            raise
        raise CheckpointError(f"{path}: its {META_KEY} entry is not valid JSON ({e})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: its {META_KEY} entry is a JSON {type(meta).__name__}, "
                              f"expected an object")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown checkpoint format {meta.get('format')!r}")
    version = meta.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise CheckpointError(f"{path}: checkpoint version {version!r} is not a whole number "
                              f"(a damaged or hand-edited checkpoint?)")
    if version > VERSION:
        raise CheckpointError(f"{path}: checkpoint version {version} is newer than this "
                              f"minigan understands ({VERSION})")
    return meta


def read_meta(path):
    """Only the JSON part of a checkpoint (its configuration, step, status); no array is read."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"no checkpoint file at {path}")
    try:
        with NpzReader(path) as z:
            return _read_meta(z, path)
    except NpzError as e:
        raise CheckpointError(str(e)) from None


def generator_weights(arrays):
    """The generator that samples: the average of G's weights ("G_ema/...", written with
    --ema) when the checkpoint has it, else G's own ("G/...")."""
    averaged = subdict(arrays, "G_ema")
    return averaged if averaged else subdict(arrays, "G")


def subdict(arrays, prefix):
    """{name: array} for the keys ``prefix/name``."""
    p = prefix + "/"
    return {k[len(p):]: v for k, v in arrays.items() if k.startswith(p)}


def flatten_optimizer_state(state_dict, prefix):
    """Split an optimizer ``state_dict`` into arrays (``prefix/i/key``) and a JSON-able rest."""
    arrays, scalars = {}, {}
    for i, s in state_dict["state"].items():
        for k, v in s.items():
            if hasattr(v, "shape") and getattr(v, "ndim", 0) > 0:
                arrays[f"{prefix}/{i}/{k}"] = v
            else:
                scalars.setdefault(str(i), {})[k] = v.item() if hasattr(v, "item") else v
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()}
              for g in state_dict["param_groups"]]
    return arrays, {"param_groups": groups, "scalars": scalars}


def unflatten_optimizer_state(arrays, rest, prefix):
    """Inverse of :func:`flatten_optimizer_state`."""
    state = {}
    for i, s in rest["scalars"].items():
        state.setdefault(int(i), {}).update(s)
    for k, v in subdict(arrays, prefix).items():
        i, key = k.split("/", 1)
        state.setdefault(int(i), {})[key] = v
    return {"state": state, "param_groups": rest["param_groups"]}
