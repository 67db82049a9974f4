"""The trainer's grids: a picture of the fixed-noise samples at chosen steps (``grids/``), the
latest one (``grid_latest.png``) and the animation of them all (``progress.gif``)."""
import math
import os
import re

from .images import save_grid
from .outputs import GRID_DIR, GRID_FILE, LATEST_GRID, PROGRESS_GIF
from .plots import save_gif

__all__ = ["Grids"]

_GRID_NAME = re.compile(f"^{GRID_FILE}$")


class Grids:
    """The grid files in ``folder`` (an :class:`~minigan.gan.outputs.OutputFolder`).

    render: "gray", "rgb", "heatmap" or "none" (no grids); value_range: the samples' range;
    nrow: images per row (None: a square); scale: pixels per sample pixel.

    A new run's first grid (G before training) is held back (:meth:`hold`) until its first step
    has worked (:meth:`release`), so a run that fails at once leaves the grids of the run that was
    in the folder before.
    """

    def __init__(self, folder, steps_per_epoch, *, render="gray", value_range=(-1.0, 1.0),
                 nrow=None, scale=1):
        self.folder, self.steps_per_epoch = folder, steps_per_epoch
        self.render, self.value_range, self.nrow, self.scale = render, value_range, nrow, scale
        self.held = None

    @property
    def enabled(self):
        return bool(self.folder) and self.render != "none"

    def write(self, images, step, epoch_end):
        """grids/step_<step>[_epoch_<epoch>].png and grid_latest.png; returns the first's path."""
        if not self.enabled:
            return None
        name = f"step_{step:07d}" + (f"_epoch_{step // self.steps_per_epoch:03d}"
                                      if epoch_end else "") + ".png"
        path = os.path.join(self.folder.root, GRID_DIR, name)
        nrow = self.nrow or math.ceil(math.sqrt(len(images)))
        for p in (path, self.folder.path(LATEST_GRID)):
            save_grid(images, p, nrow=nrow, value_range=self.value_range, render=self.render,
                      scale=self.scale)
        return path

    def hold(self, images):
        """Keep a new run's step-0 images until :meth:`release`."""
        self.held = images

    def release(self):
        """The first step worked: the old run's grids go, the held step-0 grid is written."""
        images, self.held = self.held, None
        if self.folder:
            for _, p in self.all_files():
                os.remove(p)
        self.write(images, 0, epoch_end=False)

    def files(self, up_to_step):
        """(step, path) of the grids up to ``up_to_step``, in step order."""
        return [(s, p) for s, p in self.all_files() if s <= up_to_step]

    def all_files(self):
        folder = self.folder.path(GRID_DIR)
        if folder is None or not os.path.isdir(folder):
            return []
        return sorted((int(m.group(1)), os.path.join(folder, n)) for n in os.listdir(folder)
                      if (m := _GRID_NAME.match(n)))

    def remove_after(self, step):
        """Delete the grids of steps after ``step`` (a resumed run redoes them)."""
        for s, p in self.all_files():
            if s > step:
                os.remove(p)

    def make_gif(self, up_to_step, duration_ms=300):
        """progress.gif from the grids up to ``up_to_step``."""
        if not self.enabled:
            return None
        frames = [p for _, p in self.files(up_to_step)]
        if not frames:
            return None
        return save_gif(frames, self.folder.path(PROGRESS_GIF), duration_ms=duration_ms,
                        last_frame_ms=1500)
