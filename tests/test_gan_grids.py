"""Grids: the fixed-noise pictures of a run, the latest one and the GIF of them all."""
import numpy as np
from PIL import Image

from minigan.gan.grids import Grids
from minigan.gan.outputs import GRID_DIR, LATEST_GRID, PROGRESS_GIF, OutputFolder

IMAGES = np.linspace(-1, 1, 4 * 16, dtype=np.float32).reshape(4, 1, 4, 4)


def test_names_the_latest_and_the_gif(tmp_path):
    grids = Grids(OutputFolder(str(tmp_path)), steps_per_epoch=5)
    assert grids.write(IMAGES, 3, epoch_end=False) == str(tmp_path / GRID_DIR / "step_0000003.png")
    grids.write(-IMAGES, 5, epoch_end=True)              # (a GIF merges equal frames)
    assert [s for s, _ in grids.files(10)] == [3, 5] and [s for s, _ in grids.files(4)] == [3]
    assert (tmp_path / GRID_DIR / "step_0000005_epoch_001.png").is_file()
    assert Image.open(tmp_path / LATEST_GRID).size == (2 * 4 + 3 * 2,) * 2     # 2 × 2 tiles, padded
    assert grids.make_gif(10) == str(tmp_path / PROGRESS_GIF)
    assert Image.open(tmp_path / PROGRESS_GIF).n_frames == 2
    grids.remove_after(3)
    assert [s for s, _ in grids.all_files()] == [3]


def test_a_new_runs_first_grid_waits_for_its_first_step(tmp_path):
    old = Grids(OutputFolder(str(tmp_path)), 5)
    old.write(IMAGES, 7, epoch_end=False)
    grids = Grids(OutputFolder(str(tmp_path)), 5)
    grids.hold(IMAGES)
    assert [s for s, _ in grids.all_files()] == [7]              # a failing run leaves these
    grids.release()
    assert grids.held is None and [s for s, _ in grids.all_files()] == [0]


def test_nothing_without_a_folder_or_with_render_none(tmp_path):
    assert Grids(OutputFolder(None), 5).write(IMAGES, 1, False) is None
    none = Grids(OutputFolder(str(tmp_path)), 5, render="none")
    assert none.write(IMAGES, 1, False) is None and none.make_gif(1) is None
    assert not (tmp_path / GRID_DIR).exists()
