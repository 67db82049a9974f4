"""The processes of one data-parallel run start from one configuration and fail as one.

Every process of ``mpirun`` makes the same collective calls in the same order; a process that
stops early (an error, a different --max-steps) leaves the others waiting in a collective
forever, and processes given different sizes (--z-dim) exchange arrays of different lengths.
So:

    check_same(comm, settings)  at the start, every process compares a digest of its settings
                                (name → value: the command line, TrainConfig, the parameter
                                shapes) with the others'; if they differ, every process raises
                                :class:`SettingsDiffer` naming the first differing setting and
                                its value on each process (no process is left waiting).
    activate(comm)              this process runs under MPI: an uncaught exception prints its
                                traceback and then ends every process (MPI_Abort).
    abort_others(code)          a failure that only this process saw (a full disk on rank 0,
                                ...): end every process now with exit code ``code``.

Failures that every process sees at the same step (a NaN loss, which is averaged; Ctrl-C, which
is agreed at each step) end the processes normally, together.
"""
import hashlib
import json
import sys

import numpy as np

__all__ = ["AgreedFailure", "SettingsDiffer", "check_same", "activate", "abort_others", "active"]

_VALUE_BYTES = 120                 # how much of each process's value the message shows
_active = None                     # the MPI communicator of this process's run (size > 1)


class AgreedFailure(ValueError):
    """A failure every process reaches at the same point (it follows from settings they share):
    they end normally together, and only ``speaker`` (rank 0) reports it."""
    agreed = True

    def __init__(self, message, speaker=True):
        super().__init__(message)
        self.speaker = speaker


class SettingsDiffer(AgreedFailure):
    """The processes of one run were given different settings (raised on every process)."""


def _text(value):
    return json.dumps(value, sort_keys=True, default=str)


def _digest(text):
    return np.frombuffer(hashlib.sha256(text.encode()).digest()[:8], dtype=np.uint64)[0]


def _gather(comm, row):
    """Every process's ``row`` (a uint64 or uint8 vector of one length), as rows in rank order."""
    table = np.zeros((comm.size, len(row)), dtype=row.dtype)
    table[comm.rank] = row
    return comm.allreduce_sum(table)           # each row is one process's: a sum of zeros


def _broadcast_text(comm, text):
    """Rank 0's ``text`` on every process."""
    data = np.frombuffer(text.encode(), dtype=np.uint8)
    n = comm.broadcast(np.array([len(data)], dtype=np.int64))[0]
    buffer = np.zeros(int(n), dtype=np.uint8)
    if comm.rank == 0:
        buffer[:] = data
    return comm.broadcast(buffer).tobytes().decode()


def check_same(comm, settings, what="setting"):
    """Raise SettingsDiffer on every process unless all processes of ``comm`` hold equal
    ``settings`` (a dict name → JSON-able value). Three collective calls when they agree."""
    texts = {name: _text(value) for name, value in settings.items()}
    whole = _digest(_text(sorted(texts.items())))
    digests = _gather(comm, np.array([whole], dtype=np.uint64))[:, 0]
    if (digests == digests[0]).all():
        return
    names = json.loads(_broadcast_text(comm, _text(list(texts))))        # rank 0's, in order
    extra = [n for n in sorted(texts) if n not in set(names)]
    mine = np.array([_digest(texts.get(n, "<not given>")) for n in names] + [len(extra) > 0],
                    dtype=np.uint64)
    table = _gather(comm, mine)
    differs = [i for i in range(len(names)) if (table[:, i] != table[0, i]).any()]
    if differs:                                     # the first differing setting, per process
        label, shown = names[differs[0]], texts.get(names[differs[0]], "<not given>")
    else:                                           # some process has settings rank 0 lacks
        label, shown = "the settings' names", ", ".join(extra[:3]) + " given" if extra else "same"
    row = np.zeros(_VALUE_BYTES, dtype=np.uint8)
    raw = shown.encode()[:_VALUE_BYTES]
    row[:len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    values = [bytes(r).rstrip(b"\0").decode(errors="replace") for r in _gather(comm, row)]
    per_rank = ", ".join(f"{v} on rank {r}" for r, v in enumerate(values))
    raise SettingsDiffer(f"--data-parallel: the {comm.size} processes were given different "
                         f"{what}s: {label} is {per_rank} (every process of mpirun must get "
                         f"the same command line and data)", speaker=comm.rank == 0)


def active():
    """The communicator of this process's multi-process run, or None."""
    return _active


def _abort_on_uncaught(kind, value, tb, previous=sys.excepthook):
    previous(kind, value, tb)
    abort_others(1)


def activate(comm):
    """Register ``comm`` (an MPI communicator with ``abort``) as this process's run: from now
    on an uncaught exception ends every process instead of leaving them waiting."""
    global _active
    if comm.size > 1 and hasattr(comm, "abort"):
        _active = comm
        sys.excepthook = _abort_on_uncaught


def abort_others(code):
    """End every process of the run with exit code ``code`` (MPI_Abort) after flushing this
    one's output; returns (does nothing) when there is no multi-process run."""
    if _active is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    _active.abort(code)
