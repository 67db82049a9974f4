"""MaxPool2d / AvgPool2d: gradient checks, PyTorch oracle (float64, forward and input
gradient, relative error < 1e-6), memory layout, and clear errors on bad input."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.kernels.layout import batch_first, batch_last

pytestmark = pytest.mark.usefixtures("path")        # every check on the plain and the fast path

TOL = 1e-6

# (id, class, kwargs, input shape): non-overlapping, overlapping (stride < kernel), padded,
# non-square kernel/stride/padding, odd sizes that leave a remainder
CONFIGS = [
    ("k2", dict(kernel_size=2), (2, 3, 6, 6)),
    ("k2-odd-input", dict(kernel_size=2), (2, 2, 7, 5)),
    ("k3s1-overlap", dict(kernel_size=3, stride=1), (2, 2, 5, 6)),
    ("k3s2p1-overlap", dict(kernel_size=3, stride=2, padding=1), (3, 2, 7, 7)),
    ("k2s1p1", dict(kernel_size=2, stride=1, padding=1), (2, 2, 4, 5)),
    ("nonsquare", dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0)), (2, 3, 5, 6)),
    ("k4s3p2", dict(kernel_size=4, stride=3, padding=2), (2, 1, 9, 8)),
]
POOLS = [
    ("max", lambda **kw: nn.MaxPool2d(**kw)),
    ("avg", lambda **kw: nn.AvgPool2d(**kw)),
    ("avg-exclude-pad", lambda **kw: nn.AvgPool2d(**kw, count_include_pad=False)),
]
CASES = [pytest.param(make, cfg, shape, id=f"{pname}-{cid}")
         for pname, make in POOLS for cid, cfg, shape in CONFIGS]


def _input(rng, shape, device, layout="nchw"):
    """Random float64 input (no ties in a window, almost surely), in either memory layout."""
    x = rng.standard_normal(shape)
    if layout == "batch-last":  # how minigan's own layers hand activations over
        x = batch_first(np.ascontiguousarray(batch_last(x)))
    elif layout == "strided":   # a non-contiguous view
        x = np.repeat(x, 2, axis=3)[..., ::2]
    return mg.to_device(x, device)


@pytest.mark.parametrize("layout", ["nchw", "batch-last", "strided"])
@pytest.mark.parametrize("make,cfg,shape", CASES)
def test_gradcheck(make, cfg, shape, layout, device, rng):
    pool = make(**cfg)
    report = mg.gradcheck(pool, _input(rng, shape, device, layout))
    assert report.ok, str(report)


def _torch_pool(torch, pool):
    if isinstance(pool, nn.MaxPool2d):
        return torch.nn.MaxPool2d(pool.kernel_size, pool.stride, pool.padding)
    return torch.nn.AvgPool2d(pool.kernel_size, pool.stride, pool.padding,
                              count_include_pad=pool.count_include_pad)


def _compare_with_torch(torch, pool, x, dy):
    from torch_mirror import rel_err, tensor
    y = pool(x)
    xt = tensor(x, requires_grad=True)
    yt = _torch_pool(torch, pool)(xt)
    assert rel_err(y, yt) < TOL, "forward"
    dx = pool.backward(dy)
    yt.backward(tensor(dy))
    assert rel_err(dx, xt.grad) < TOL, "input gradient"


@pytest.mark.parametrize("make,cfg,shape", CASES)
@pytest.mark.oracle
def test_matches_torch(make, cfg, shape, device, rng):
    torch = pytest.importorskip("torch", reason="PyTorch is the test oracle: pip install torch==2.13.0")
    pool = make(**cfg)
    x = _input(rng, shape, device, "batch-last")
    dy = mg.to_device(rng.standard_normal(pool(x).shape), device)
    _compare_with_torch(torch, pool, x, dy)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.oracle
def test_random_configs_match_torch(seed, device):
    torch = pytest.importorskip("torch", reason="PyTorch is the test oracle: pip install torch==2.13.0")
    r = np.random.default_rng(seed)
    for _ in range(5):
        k = tuple(int(v) for v in r.integers(1, 5, 2))
        s = tuple(int(v) for v in r.integers(1, 4, 2))
        p = tuple(int(r.integers(0, kk // 2 + 1)) for kk in k)
        h, w = (int(r.integers(kk, kk + 7)) for kk in k)
        x = mg.to_device(r.standard_normal((int(r.integers(1, 4)), int(r.integers(1, 4)), h, w)), device)
        for pool in (nn.MaxPool2d(k, s, p), nn.AvgPool2d(k, s, p),
                     nn.AvgPool2d(k, s, p, count_include_pad=False)):
            dy = mg.to_device(r.standard_normal(pool(x).shape), device)
            _compare_with_torch(torch, pool, x, dy)


@pytest.mark.oracle
def test_max_pool_ties_pick_the_first_maximum_like_torch(device):
    torch = pytest.importorskip("torch", reason="PyTorch is the test oracle: pip install torch==2.13.0")
    r = np.random.default_rng(3)
    x = mg.to_device(r.integers(0, 3, (2, 2, 6, 6)).astype(np.float64), device)  # many ties
    for pool in (nn.MaxPool2d(2), nn.MaxPool2d(3, 1, 1)):
        _compare_with_torch(torch, pool, x, mg.to_device(r.standard_normal(pool(x).shape), device))


def test_max_pool_padding_never_wins(device):
    x = mg.to_device(-np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4), device)  # all < 0
    y = mg.asnumpy(nn.MaxPool2d(3, stride=2, padding=1)(x))
    np.testing.assert_array_equal(y, [[[[-1, -2], [-5, -6]]]])


def test_float32_output_is_batch_last_and_matches_float64(device, rng):
    x64 = rng.standard_normal((4, 3, 8, 8))
    for pool in (nn.MaxPool2d(2), nn.AvgPool2d(3, 2, 1)):
        y32 = pool(mg.to_device(x64.astype(np.float32), device))
        assert y32.dtype == np.float32 and y32.shape == (4, 3, 4, 4)
        assert batch_last(y32).flags.c_contiguous        # ready for the next layer, no copy
        dx = pool.backward(mg.to_device(np.ones(y32.shape, np.float32), device))
        assert dx.dtype == np.float32 and dx.shape == x64.shape
        np.testing.assert_allclose(mg.asnumpy(y32), mg.asnumpy(pool(mg.to_device(x64, device))),
                                   rtol=1e-6, atol=1e-6)


def test_stride_defaults_to_kernel_size():
    assert nn.MaxPool2d(3).stride == (3, 3)
    assert nn.AvgPool2d(2, stride=1).stride == (1, 1)
    assert "kernel_size=(2, 2)" in repr(nn.MaxPool2d(2))


@pytest.mark.parametrize("cls", [nn.MaxPool2d, nn.AvgPool2d])
def test_bad_input_errors_name_the_layer(cls, device):
    name = cls.__name__
    pool = cls(3)
    with pytest.raises(ValueError, match=rf"{name}: expected a 4-D input, got shape \(2, 5, 5\)"):
        pool(mg.to_device(np.zeros((2, 5, 5), np.float32), device))
    with pytest.raises(ValueError, match=rf"{name}: kernel 3x3 is larger than the padded input 2x4"):
        pool(mg.to_device(np.zeros((1, 1, 2, 4), np.float32), device))
    with pytest.raises(TypeError, match=rf"{name}: input must be a floating-point array, got dtype int64"):
        pool(mg.to_device(np.zeros((1, 1, 6, 6), np.int64), device))
    with pytest.raises(ValueError, match=rf"{name}: padding \(2, 2\) must be at most half the kernel size \(3, 3\)"):
        cls(3, padding=2)
    with pytest.raises(ValueError, match=rf"{name}: kernel_size and stride must be >= 1"):
        cls(2, stride=0)


@pytest.mark.parametrize("cls", [nn.MaxPool2d, nn.AvgPool2d])
def test_backward_errors(cls, device):
    name = cls.__name__
    pool = cls(2)
    x = mg.to_device(np.zeros((2, 3, 6, 6), np.float32), device)
    with pytest.raises(RuntimeError, match=rf"{name}.backward called before forward"):
        pool.backward(x)
    pool(x)
    with pytest.raises(ValueError, match=rf"{name}.backward: gradient has shape \(2, 3, 6, 6\), "
                                         rf"expected \(2, 3, 3, 3\)"):
        pool.backward(x)
    with pytest.raises(TypeError, match=rf"{name}.backward: gradient has dtype float64, expected float32"):
        pool.backward(mg.to_device(np.zeros((2, 3, 3, 3)), device))


def test_gradcheck_catches_a_wrong_backward(device, rng):
    """The checks above can fail: a pool whose backward forgets the overlap sums is caught."""
    class Broken(nn.MaxPool2d):
        def backward(self, grad_output, need_input_grad=True):
            return super().backward(grad_output) * 1.01
    assert not mg.gradcheck(Broken(3, 1), _input(rng, (1, 1, 5, 5), device)).ok
