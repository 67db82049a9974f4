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
