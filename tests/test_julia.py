"""Julia-set escape-time images: the backends agree bit for bit, the article's formula and axis
convention hold, and the scaling / rendering / PNG helpers work."""
import os
import subprocess
import sys

import numpy as np
import pytest

from minigan.data import julia as julia_mod
from minigan.data.julia import (INTERIOR, julia_axes, julia_c_values, julia_images,
                                render_heatmap_grid, save_julia_pngs, scale_julia)

# interior-heavy, boundary, slow-escaping and immediately-escaping constants
SPECIAL_C = [0, -1, 0.25, -2, 0.3 + 0.5j, -0.8 + 0.156j, -0.4 + 0.6j, 1.2j, 2 + 2j, 10, -100j]


def article_julia(x, y, size, c):
    """The article's per-pixel function, transcribed with Python complex numbers."""
    z = complex((y / size) * 2.7 - 1.3, (x / size) * 4.5 - 2.5)
    for i in range(1, 255):
        z = z * z + c
        if abs(z) >= 4:
            return i
    return 255


@pytest.mark.parametrize("size", [1, 2, 7, 16, 58])
def test_numba_numpy_python_bit_identical(size):
    c = np.concatenate([np.array(SPECIAL_C, dtype=np.complex128),
                        julia_c_values(6, seed=size),
                        julia_c_values(3, seed=size, variant="article")])
    ref = julia_images(c=c, size=size, backend="numpy")
    fast = julia_images(c=c, size=size, backend="numba")
    np.testing.assert_array_equal(julia_images(c=c, size=size, backend="numpy-compact"), ref)
    assert ref.dtype == fast.dtype == np.float32 and ref.shape == (len(c), size, size)
    np.testing.assert_array_equal(fast, ref)
    few = [0, 2, 7, 9] if size > 16 else slice(None)  # pure Python is slow: a subset
    np.testing.assert_array_equal(julia_images(c=c[few], size=size, backend="python"), ref[few])


def test_matches_article_formula_and_axes():
    size = 24
    for c in [0, 0.3 + 0.5j, -0.8 + 0.156j, -1]:
        img = julia_images(c=c, size=size)[0]
        expected = [[article_julia(x, y, size, c) for y in range(1, size + 1)]
                    for x in range(1, size + 1)]
        np.testing.assert_array_equal(img, np.array(expected, dtype=np.float32))


def test_special_cases():
    size = 45
    zr0, zi0 = julia_axes(size)
    imgs = julia_images(c=[0, 10, -100j], size=size)
    # c = 0: z_n = z0^(2^n), so the filled set is the unit disk |z0| < 1
    radius2 = zr0[None, :] ** 2 + zi0[:, None] ** 2  # axis 0 = x (imaginary), axis 1 = y (real)
    inside, outside = radius2 < 0.95, radius2 > 1.05
    assert inside.sum() > 50 and (imgs[0][inside] == INTERIOR).all()
    assert (imgs[0][outside] < INTERIOR).all()
    # the disk is wider along y (real step 2.7/size) than along x (imaginary step 4.5/size)
    assert (imgs[0] == INTERIOR).any(axis=0).sum() > (imgs[0] == INTERIOR).any(axis=1).sum()
    # |c| >= 4 + max|z0|^2: every pixel escapes at the first iteration
    assert (imgs[1] == 1).all() and (imgs[2] == 1).all()
    vals = julia_images(12, size=20, seed=5)
    assert vals.min() >= 1 and vals.max() <= INTERIOR and (vals == np.round(vals)).all()


def test_c_values_variants():
    art = julia_c_values(500, seed=1, variant="article")
    np.testing.assert_allclose(np.abs(art), 1.2)
    base = (500 / 14) * np.pi
    offset = np.mod(np.angle(art) - base, 2 * np.pi)  # u/10 in [0, 0.1)
    assert (offset < 0.1 + 1e-12).all()

    var = julia_c_values(56, seed=1)
    assert (np.abs(var) >= 0.6).all() and (np.abs(var) < 1.2).all()
    k = np.arange(56)
    offset = np.mod(np.angle(var) - k * np.pi / 14, 2 * np.pi)
    assert (offset < 0.1 + 1e-12).all()  # image k points in direction k*pi/14 (+ u/10)
    assert len(np.unique(np.round(np.angle(var), 1))) > 20

    fixed = julia_c_values(10, seed=1, radius=0.8)
    np.testing.assert_allclose(np.abs(fixed), 0.8)
    np.testing.assert_array_equal(julia_c_values(7, seed=3), julia_c_values(7, seed=3))
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(julia_c_values(7, seed=rng), julia_c_values(7, seed=3))
    with pytest.raises(ValueError, match="variant"):
        julia_c_values(3, variant="mandelbrot")


def test_julia_images_arguments():
    a = julia_images(4, size=10, seed=7)
    np.testing.assert_array_equal(a, julia_images(c=julia_c_values(4, seed=7), size=10))
    assert julia_images(c=0.1j, size=5).shape == (1, 5, 5)
    assert julia_images(c=[], size=5).shape == (0, 5, 5)
    with pytest.raises(ValueError, match="give n"):
        julia_images()
    with pytest.raises(ValueError, match="n=3 but 2"):
        julia_images(3, c=[0, 1])
    with pytest.raises(ValueError, match="backend"):
        julia_images(2, backend="fortran")


def test_numba_kernel_compiled_once():
    julia_images(c=[0], size=4)
    kernel = julia_mod._NUMBA_KERNEL
    julia_images(c=[0.5], size=6)
    assert julia_mod._NUMBA_KERNEL is kernel
    assert kernel.targetoptions.get("parallel") and not kernel.targetoptions.get("fastmath")


def test_scale_julia():
    counts = np.array([0, 1, 2, 127, 254, 255], dtype=np.float32)
    lin = scale_julia(counts)
    assert lin.dtype == np.float32
    np.testing.assert_allclose(lin, counts / 255 * 2 - 1, atol=1e-6)
    log = scale_julia(counts, mode="log")
    np.testing.assert_allclose(log, np.log1p(counts) / np.log1p(255) * 2 - 1, atol=1e-6)
    assert log[0] == -1 and abs(log[-1] - 1) < 1e-6 and (np.diff(log) > 0).all()
    unit = scale_julia(counts, mode="log", value_range=(0, 1))
    assert unit.min() == 0 and abs(unit.max() - 1) < 1e-6
    with pytest.raises(ValueError, match="mode"):
        scale_julia(counts, mode="sqrt")


def test_render_heatmap_grid(tmp_path):
    from PIL import Image
    imgs = scale_julia(julia_images(5, size=12, seed=0), mode="log")
    path = render_heatmap_grid(imgs[:, None], tmp_path / "grid.png", nrow=3, scale=2, pad=1)
    with Image.open(path) as im:
        assert im.mode == "RGB"
        # 2 rows x 3 columns of 12 px, 1 px padding around, everything x2
        assert im.size == ((3 * 13 + 1) * 2, (2 * 13 + 1) * 2)
        px = np.asarray(im)
    assert px[:2].max() == 0  # padding is black
    assert px.reshape(-1, 3).std(axis=0).min() > 0  # not a flat picture
    with pytest.raises(ValueError, match="shape"):
        render_heatmap_grid(np.zeros((4, 4)), tmp_path / "bad.png")


def test_save_julia_pngs(tmp_path):
    from PIL import Image
    c = julia_c_values(3, seed=2)
    paths = save_julia_pngs(tmp_path / "pngs", c=c, size=20, mode="linear")
    assert [os.path.basename(p) for p in paths] == [f"julia_{i:05d}.png" for i in range(3)]
    counts = julia_images(c=c, size=20)
    for p, img in zip(paths, counts):
        with Image.open(p) as im:
            assert im.mode == "L" and im.size == (20, 20)
            np.testing.assert_array_equal(np.asarray(im), img.astype(np.uint8))
    logs = save_julia_pngs(tmp_path / "log", n=4, size=16, seed=0)
    assert len(logs) == 4 and all(os.path.isfile(p) for p in logs)


def test_import_is_light():
    """minigan.data imports neither numba, cupy, matplotlib, Pillow, tqdm nor minigan.nn."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(julia_mod.__file__)))
    code = (
        "import sys, types\n"
        f"pkg = types.ModuleType('minigan'); pkg.__path__ = [{root!r}]\n"
        "sys.modules['minigan'] = pkg  # bypass minigan/__init__: test the data package alone\n"
        "import minigan.data\n"
        "heavy = [m for m in ('numba', 'cupy', 'matplotlib', 'PIL', 'tqdm', 'minigan.nn', 'torch')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def _cuda_available():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda_available(), reason="needs CuPy and a CUDA GPU")
def test_cupy_matches_numpy():
    import cupy
    for size in [1, 7, 58]:
        c = np.concatenate([np.array(SPECIAL_C, dtype=np.complex128), julia_c_values(20, seed=1)])
        gpu = julia_images(c=c, size=size, backend="cupy")
        assert isinstance(gpu, cupy.ndarray) and gpu.dtype == cupy.float32
        np.testing.assert_array_equal(cupy.asnumpy(gpu), julia_images(c=c, size=size,
                                                                       backend="numpy"))
    # constants may come as a CuPy array too
    np.testing.assert_array_equal(
        cupy.asnumpy(julia_images(c=cupy.asarray(c), size=9, backend="cupy")),
        julia_images(c=c, size=9, backend="numpy"))
