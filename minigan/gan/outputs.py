"""What a training run writes, and where: the file names in the output folder, and the folder."""
import os

from ..files.atomic import remove_stale_temp_files

__all__ = ["OutputFolder", "CHECKPOINT", "NONFINITE_CHECKPOINT", "METRICS", "LOSSES_PNG", "GRID_DIR",
           "GRID_FILE", "LATEST_GRID", "PROGRESS_GIF", "SAMPLES", "OUTPUT_FILES"]

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


class OutputFolder:
    """The run's output folder, or none (``root`` None: nothing is written, every path is None)."""

    def __init__(self, root):
        self.root = root

    def __bool__(self):
        return self.root is not None

    def path(self, name):
        """``root/name``, or None without a folder."""
        return None if self.root is None else os.path.join(self.root, name)

    def prepare(self):
        """Create the folder and delete the temporary files (``<name>.<random>.tmp``) that writes
        cut off by a kill left of every file a run writes; returns how many were deleted."""
        os.makedirs(self.root, exist_ok=True)
        stale = remove_stale_temp_files(self.root, OUTPUT_FILES, name_regex=PICTURE)
        stale += remove_stale_temp_files(self.path(GRID_DIR), name_regex=GRID_FILE)
        return len(stale)
