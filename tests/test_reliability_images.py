"""Issue 12, "images read at their real values": 16-bit and float images are scaled, not
clipped; other ranges, decompression bombs and non-regular files are refused by name."""
import os

import numpy as np
import pytest
from PIL import Image

from minigan.gan.folder import ImageFolderError, load_image_folder

RAMP = np.linspace(0, 1, 32 * 32).reshape(32, 32)


def _folder(tmp_path, name, array, **save):
    folder = tmp_path / name
    folder.mkdir()
    Image.fromarray(array).save(folder / save.pop("file"), **save)
    return str(folder)


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    folder = _folder(tmp_path, "png16", np.rint(RAMP * 65535).astype(np.uint16), file="a.png")
    x = load_image_folder(folder, size=32, grayscale=True)[0, 0]
    np.testing.assert_allclose(x, np.rint(RAMP * 255), atol=1)       # was 93% white before
    assert (x == 255).mean() < 0.01


@pytest.mark.parametrize("scale", [1.0, 255.0])
def test_float_tiff_in_unit_or_byte_range_is_scaled(tmp_path, scale):
    folder = _folder(tmp_path, f"f{int(scale)}", (RAMP * scale).astype(np.float32), file="a.tif")
    x = load_image_folder(folder, size=32, grayscale=True)[0, 0]
    np.testing.assert_allclose(x, np.rint(RAMP * 255), atol=1)       # [0, 1] was all black


def test_float_tiff_with_another_range_is_refused(tmp_path):
    folder = _folder(tmp_path, "fbad", (RAMP * 1000 - 3).astype(np.float32), file="a.tif")
    with pytest.raises(ImageFolderError, match=r"a.tif: a float image with values in \[-3, 997\]"):
        load_image_folder(folder, size=32)


def test_decompression_bombs_are_refused(tmp_path, monkeypatch):
    folder = _folder(tmp_path, "bomb", np.zeros((64, 64), np.uint8), file="a.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)             # 4096 px > 2 x the limit
    with pytest.raises(ImageFolderError, match=r"a.png: refused"):
        load_image_folder(folder, size=32)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_in_the_folder_is_refused_not_waited_on(tmp_path):
    folder = _folder(tmp_path, "fifo", np.zeros((32, 32), np.uint8), file="a.png")
    os.mkfifo(os.path.join(folder, "b.png"))
    with pytest.raises(ImageFolderError, match=r"b.png: not a regular file"):
        load_image_folder(folder, size=32)


def _red_top(path, orientation=None):
    """A 4×4 image whose top two rows are red, the rest blue, with an EXIF orientation tag."""
    a = np.zeros((4, 4, 3), np.uint8)
    a[:2, :, 0], a[2:, :, 2] = 255, 255
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    Image.fromarray(a).save(path, exif=exif)


@pytest.mark.parametrize("suffix", [".png", ".tiff"])
def test_exif_orientation_is_honoured(tmp_path, suffix):
    _red_top(tmp_path / f"plain{suffix}")
    _red_top(tmp_path / f"turned{suffix}", orientation=6)       # shown turned 90° clockwise
    plain, turned = load_image_folder(str(tmp_path), size=4)
    assert plain[0, :2].min() == 255 and plain[0, 2:].max() == 0          # red on top
    assert turned[0, :, 2:].min() == 255 and turned[0, :, :2].max() == 0  # red on the right


def test_symlinked_sub_folders_are_searched_once_and_loops_not_followed(tmp_path):
    data, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    (data / "a").mkdir(parents=True)
    elsewhere.mkdir()
    _red_top(data / "a" / "one.png")
    _red_top(elsewhere / "two.png")
    os.symlink(elsewhere, data / "linked")                    # a linked sub-folder: searched
    os.symlink(data, data / "a" / "loop")                     # a loop back to the top: once
    os.symlink(elsewhere, data / "twin")                      # the same folder twice: once
    assert len(load_image_folder(str(data), size=4)) == 2
    os.symlink(tmp_path / "gone", data / "broken.png")
    with pytest.raises(ImageFolderError, match=r"broken.png: a symbolic link to .*gone, which "
                                                r"does not exist \(remove it from the folder\)$"):
        load_image_folder(str(data), size=4)
