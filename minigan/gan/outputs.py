"""What a training run writes, and where: the file names in the output folder, and the folder."""
import os
import re
import shutil

from ..files.atomic import remove_stale_temp_files
from ..files.checkpoint import CheckpointError, read_meta

__all__ = ["OutputFolder", "finish_swap", "foreign_file", "CHECKPOINT", "NONFINITE_CHECKPOINT",
           "METRICS", "LOSSES_PNG", "GRID_DIR", "GRID_FILE", "LATEST_GRID", "PROGRESS_GIF", "SAMPLES", "OUTPUT_FILES"]

CHECKPOINT = "checkpoint.npz"
NONFINITE_CHECKPOINT = "checkpoint_nonfinite.npz"   # the state a NaN/inf loss came from
METRICS = "metrics.csv"
LOSSES_PNG = "losses.png"
GRID_DIR = "grids"                                  # one grid of fixed-noise samples per save
GRID_FILE = r"step_(\d{7})(?:_epoch_(\d+))?\.png"    # a grid's name in GRID_DIR
LATEST_GRID = "grid_latest.png"
PROGRESS_GIF = "progress.gif"
SAMPLES = "samples.npy"
OUTPUT_FILES = (CHECKPOINT, NONFINITE_CHECKPOINT, METRICS, LOSSES_PNG, LATEST_GRID, PROGRESS_GIF,
                SAMPLES)
PICTURE = r"[^/\\]+\.(?:png|gif)"     # losses.png, grid_latest.png, progress.gif, the hooks' plots
_GRID_NAME = re.compile(f"^{GRID_FILE}$")


# a new run in a folder that holds an old run writes into STAGING until its first checkpoint;
# then the folder is renamed READY (the commit point), the old run's files go, it becomes MOVING,
# and its files move in (finish_swap; a kill at any moment is finished by the next start)
STAGING, READY, MOVING = ".new-run", ".new-run-ready", ".new-run-moving"


class OutputFolder:
    """The run's output folder, or none (``root`` None: nothing is written, every path is None).

    ``root`` is where files are written now: ``final`` (the folder given), or its STAGING
    sub-folder while a new run has not yet replaced the old run there (:meth:`stage`,
    :meth:`commit`)."""

    def __init__(self, root):
        self.root = self.final = root

    def __bool__(self):
        return self.root is not None

    def path(self, name):
        """``root/name``, or None without a folder."""
        return None if self.root is None else os.path.join(self.root, name)

    def prepare(self):
        """Create the folder, finish or discard what a killed run left of a swap, and delete the
        temporary files (``<name>.<random>.tmp``) that writes cut off by a kill left of every
        file a run writes; returns how many were deleted."""
        os.makedirs(self.root, exist_ok=True)
        finish_swap(self.final)
        stale = remove_stale_temp_files(self.root, OUTPUT_FILES, name_regex=PICTURE)
        stale += remove_stale_temp_files(self.path(GRID_DIR), name_regex=GRID_FILE)
        return len(stale)

    def holds_a_run(self):
        """True if the folder holds any file a run writes (checkpoint, metrics, grids, ...)."""
        return bool(_run_files(self.final))

    @property
    def staged(self):
        return self.root != self.final

    def stage(self):
        """Write into ``final/.new-run`` until :meth:`commit`: nothing of the old run is touched
        before the new run's first checkpoint."""
        staging = os.path.join(self.final, STAGING)
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(staging)
        self.root = staging

    def commit(self):
        """The new run's first checkpoint is written: its files replace all of the old run's."""
        if not self.staged:
            return
        os.replace(self.root, os.path.join(self.final, READY))
        _fsync(self.final)
        self.root = self.final
        finish_swap(self.final)


def foreign_file(folder):
    """(path, what it is) of a file in ``folder`` that a new run would replace but that is not a
    minigan run's — a checkpoint.npz that is not a readable minigan checkpoint, a metrics.csv
    without the columns kind and step — or None."""
    ckpt, metrics = os.path.join(folder, CHECKPOINT), os.path.join(folder, METRICS)
    if os.path.isfile(ckpt):
        try:
            read_meta(ckpt)
        except CheckpointError as e:
            return ckpt, f"not a readable minigan checkpoint ({str(e).replace(ckpt + ': ', '')})"
    if os.path.isfile(metrics):
        try:
            with open(metrics, "rb") as f:
                first = f.read(4096).split(b"\n", 1)[0].lstrip(b"\xef\xbb\xbf").decode("utf-8")
        except (OSError, UnicodeDecodeError):
            first = ""
        columns = [c.strip() for c in first.split(",")]
        if "kind" not in columns or "step" not in columns:
            return metrics, ("not a minigan metrics file (its first line is not a header with the "
                             "columns kind and step)")
    return None


def _run_files(folder):
    """Paths (relative to ``folder``) of the run files there: OUTPUT_FILES and the grids."""
    found = [n for n in OUTPUT_FILES if os.path.isfile(os.path.join(folder, n))]
    grids = os.path.join(folder, GRID_DIR)
    if os.path.isdir(grids):
        found += [os.path.join(GRID_DIR, n) for n in sorted(os.listdir(grids))
                  if _GRID_NAME.match(n) and os.path.isfile(os.path.join(grids, n))]
    return found


def finish_swap(out):
    """Complete a swap a kill interrupted (READY or MOVING) and discard a STAGING folder (a new
    run killed before its first checkpoint: the old run is intact). Idempotent."""
    ready, moving = os.path.join(out, READY), os.path.join(out, MOVING)
    if os.path.isdir(ready):
        incoming = set(_run_files(ready))
        for name in _run_files(out):                   # the old run's files go, all of them
            if name not in incoming:
                os.remove(os.path.join(out, name))
        os.replace(ready, moving)
    if os.path.isdir(moving):
        names = sorted(_other_files(moving), key=lambda n: n == CHECKPOINT)   # the checkpoint last
        for name in names:
            os.makedirs(os.path.dirname(os.path.join(out, name)), exist_ok=True)
            os.replace(os.path.join(moving, name), os.path.join(out, name))
        shutil.rmtree(moving)
        _fsync(out)
    shutil.rmtree(os.path.join(out, STAGING), ignore_errors=True)


def _other_files(folder):
    """Every other file under ``folder`` (a hook's picture), relative to it."""
    found = []
    for root, _, names in os.walk(folder):
        found += [os.path.relpath(os.path.join(root, n), folder) for n in names]
    return found


def _fsync(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
