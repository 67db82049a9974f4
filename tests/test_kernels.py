"""Each fast kernel (numba on the CPU, CuPy on the GPU) agrees with the plain NumPy math it
replaces: the same module run with kernels on and off gives the same numbers."""
import copy

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.kernels import ops
from minigan.kernels.layout import batch_first
from minigan.nn.im2col import col2im, im2col


def _run(module, x, dy, fast, monkeypatch):
    monkeypatch.setattr(mg.dispatch, "ENABLED", fast)
    mg.seed(5)
    m = copy.deepcopy(module)
    y = m(x)
    dx = m.backward(dy)
    return [mg.asnumpy(a) for a in (y, dx, *[p.grad for p in m.parameters()], *[b for _, b in m.named_buffers()])]


def _layouts(rng, shape, device="cpu"):
    """The same values as a C-contiguous array, a batch-last view and a strided view, made on
    ``device`` (copying a NumPy view to a GPU would not keep its layout)."""
    xp = mg.backend.array_module_for(device)
    a = xp.asarray(rng.standard_normal(shape).astype(np.float32))
    bl = batch_first(xp.ascontiguousarray(xp.moveaxis(a, 0, -1)))
    strided = xp.zeros(shape[:-1] + (shape[-1] * 2,), np.float32)[..., ::2]
    strided[...] = a
    return {"c-contiguous": a, "batch-last": bl, "strided": strided}


MODULES = [
    ("linear", lambda: nn.Linear(40, 24), (32, 40), 1e-5),
    ("reshape", lambda: nn.Reshape(10, 2, 2), (16, 8, 5), 0),
    ("leakyrelu", lambda: nn.LeakyReLU(0.2), (16, 8, 5, 5), 0),
    ("dropout", lambda: nn.Dropout(0.3), (16, 8, 5, 5), 0),
    ("batchnorm2d", lambda: nn.BatchNorm2d(8), (16, 8, 5, 5), 1e-5),
    ("batchnorm1d", lambda: nn.BatchNorm1d(40), (32, 40), 1e-5),
    ("conv", lambda: nn.Conv2d(8, 4, 5, stride=2, padding=2), (16, 8, 7, 7), 1e-5),
    ("convT", lambda: nn.ConvTranspose2d(8, 4, 5, stride=2, padding=2, output_padding=1), (16, 8, 7, 7), 1e-5),
    ("convT-s1", lambda: nn.ConvTranspose2d(8, 4, (5, 3), stride=1, padding=(2, 1)), (16, 8, 7, 7), 1e-5),
    ("conv-k4s2p1", lambda: nn.Conv2d(6, 8, 4, stride=2, padding=1), (16, 6, 8, 8), 1e-5),
    ("convT-k4s2p1", lambda: nn.ConvTranspose2d(8, 6, 4, stride=2, padding=1), (16, 8, 4, 4), 1e-5),
]


@pytest.mark.parametrize("layout", ["c-contiguous", "batch-last", "strided"])
@pytest.mark.parametrize("name,factory,shape,rtol", MODULES, ids=[m[0] for m in MODULES])
def test_fast_path_matches_plain_numpy(name, factory, shape, rtol, layout, device, rng, monkeypatch):
    x = _layouts(rng, shape, device)[layout]
    module = factory().to(device)
    y = module(x)
    dy = _layouts(np.random.default_rng(3), y.shape, device)[layout]
    fast = _run(module, x, dy, True, monkeypatch)
    plain = _run(module, x, dy, False, monkeypatch)
    for a, b in zip(fast, plain):
        if rtol == 0:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


@pytest.mark.parametrize("serial_below", [0, 1 << 40], ids=["parallel", "serial"])
def test_leaky_relu_kernels_on_one_thread_and_on_all_match_plain_numpy(serial_below, rng, monkeypatch):
    """Small arrays take the one-thread LeakyReLU kernels, large ones the parallel ones
    (ops.SERIAL_BELOW): both equal the plain math exactly, x = 0 included."""
    monkeypatch.setattr(ops, "SERIAL_BELOW", serial_below)
    x = rng.standard_normal((6, 5, 4, 3)).astype(np.float32)
    x[0, 0] = 0
    dy = rng.standard_normal(x.shape).astype(np.float32)
    relu = nn.LeakyReLU(0.2)
    np.testing.assert_array_equal(ops.leaky_relu(x, 0.2), _plain_leaky_relu(relu, x))
    np.testing.assert_array_equal(ops.leaky_relu_grad(x, dy, 0.2), _plain_leaky_relu_grad(relu, x, dy))


def _plain_leaky_relu(relu, x):
    return nn.LeakyReLU._f.plain(relu, np, x)


def _plain_leaky_relu_grad(relu, x, dy):
    return nn.LeakyReLU._df.plain(relu, np, x, None, dy)


@pytest.mark.parametrize("serial_below", [0, 1 << 40], ids=["parallel", "serial"])
@pytest.mark.parametrize("shape", [(16, 8, 5, 5), (6, 3, 2, 2)])
def test_batchnorm_kernels_on_one_thread_and_on_all_match_plain_numpy(shape, serial_below, rng, monkeypatch):
    """Small maps take the one-thread BatchNorm kernels, large ones the parallel ones
    (ops.SERIAL_BELOW): both equal the plain math (outputs, dx, dγ, dβ, running estimates)."""
    monkeypatch.setattr(ops, "SERIAL_BELOW", serial_below)
    x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    bn = nn.BatchNorm2d(shape[1])
    bn.weight.data[...] = np.linspace(0.5, 1.5, shape[1], dtype=np.float32)
    bn.bias.data[...] = np.linspace(-0.3, 0.3, shape[1], dtype=np.float32)
    fast = _run(bn, x, dy, True, monkeypatch)
    plain = _run(bn, x, dy, False, monkeypatch)
    for a, b in zip(fast, plain):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(b).max())


@pytest.mark.parametrize("serial_below", [0, 1 << 40], ids=["parallel", "serial"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_fused_adam_matches_plain_numpy(weight_decay, serial_below, device, rng, monkeypatch):
    """The fused Adam step on one thread (small parameters, ops.ADAM_SERIAL_BELOW) and
    parallel both equal the plain lines."""
    monkeypatch.setattr(ops, "ADAM_SERIAL_BELOW", serial_below)
    results = []
    for fast in (True, False):
        monkeypatch.setattr(mg.dispatch, "ENABLED", fast)
        model = nn.Linear(7, 5).to(device)
        model.load_state_dict({"weight": np.linspace(-1, 1, 35, dtype=np.float32).reshape(5, 7),
                               "bias": np.zeros(5, np.float32)})
        opt = mg.optim.Adam(model.parameters(), lr=0.01, betas=(0.5, 0.999), weight_decay=weight_decay)
        r = np.random.default_rng(0)
        for _ in range(5):
            for p in model.parameters():
                p.grad[...] = mg.to_device(r.standard_normal(p.shape).astype(np.float32), device)
            opt.step()
        results.append([mg.asnumpy(p.data) for p in model.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=2e-6)  # float32 rounding of 5 steps of lr 0.01


@pytest.mark.parametrize("serial_below", [0, 1 << 40], ids=["parallel", "serial"])
@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k,s,p,hw", [((5, 5), (2, 2), (2, 2), (7, 7)), ((3, 2), (1, 2), (1, 0), (6, 5)),
                                      ((4, 4), (2, 2), (1, 1), (8, 8)), ((5, 5), (1, 1), (2, 2), (7, 7))])
def test_im2col_col2im_kernels_match_plain(k, s, p, hw, dtype, strided, serial_below, device, rng, monkeypatch):
    """numba (CPU) or CUDA (GPU) im2col/col2im against the plain strided-view and slab-add
    versions; the CUDA im2col also reads a strided (transposed NCHW) input directly. The CPU
    im2col on one thread (small columns, ops.IM2COL_SERIAL_BELOW) and parallel both."""
    monkeypatch.setattr(ops, "IM2COL_SERIAL_BELOW", serial_below)
    xp = mg.backend.array_module_for(device)
    x = xp.moveaxis(mg.to_device(rng.standard_normal((4, 3) + hw).astype(dtype), device), 0, -1)
    x = x if strided else xp.ascontiguousarray(x)          # (C, H, W, N)
    out_hw = tuple((n + 2 * pp - kk) // ss + 1 for n, pp, kk, ss in zip(hw, p, k, s))
    monkeypatch.setattr(mg.dispatch, "ENABLED", True)
    fast = im2col(x, k, s, p, out_hw).copy()
    c = mg.to_device(rng.standard_normal(fast.shape).astype(dtype), device)
    fast_back = col2im(c, 3, hw, k, s, p, out_hw)
    monkeypatch.setattr(mg.dispatch, "ENABLED", False)
    np.testing.assert_array_equal(mg.asnumpy(fast), mg.asnumpy(im2col(x, k, s, p, out_hw)))
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(mg.asnumpy(fast_back), mg.asnumpy(col2im(c, 3, hw, k, s, p, out_hw)),
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_running_stats_fast_match_plain(momentum, device, rng, monkeypatch):
    """The GPU kernel moves the running estimates itself; they match the plain update (to
    float32 rounding: the kernel sums in float64, CuPy's plain mean and var in float32)."""
    x = mg.to_device((rng.standard_normal((32, 6, 4, 4)) * 2 + 1).astype(np.float32), device)
    states = []
    for fast in (True, False):
        monkeypatch.setattr(mg.dispatch, "ENABLED", fast)
        bn = nn.BatchNorm2d(6, momentum=momentum).to(device)
        for _ in range(3):
            bn(x)
        states.append({k: mg.asnumpy(v) for k, v in bn.state_dict().items()})
    for name in states[0]:
        np.testing.assert_allclose(states[0][name], states[1][name], rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_bce_with_logits_matches_plain(dtype, device, rng, monkeypatch):
    """BCEWithLogits' fused GPU reduction and gradient agree with the plain lines (on the CPU
    both runs take the plain lines)."""
    x = mg.to_device((rng.standard_normal((64, 1)) * 4).astype(dtype), device)
    t = mg.to_device(rng.random((64, 1)).astype(dtype), device)
    results = []
    for fast in (True, False):
        monkeypatch.setattr(mg.dispatch, "ENABLED", fast)
        loss = nn.BCEWithLogitsLoss()
        results.append((loss(x, t), mg.asnumpy(loss.backward())))
    (value_fast, grad_fast), (value_plain, grad_plain) = results
    assert isinstance(value_fast, float)
    assert value_fast == pytest.approx(value_plain, rel=1e-6 if dtype == np.float32 else 1e-12)
    assert grad_fast.dtype == dtype
    np.testing.assert_allclose(grad_fast, grad_plain, rtol=1e-6, atol=1e-9)


def test_zero_grad_clears_every_gradient_at_once(device):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)).to(device)
    opt = mg.optim.Adam(model.parameters())
    for zero in (model.zero_grad, opt.zero_grad):
        for p in model.parameters():
            p.grad[...] = 1.5
        zero()
        assert all(float(abs(p.grad).max()) == 0 for p in model.parameters())


def test_single_fast_paths_switch_off_by_name(device, rng, monkeypatch):
    """MINIGAN_KERNELS_OFF / kernels.DISABLED turns one fast path off; the others stay on."""
    cols = mg.to_device(rng.standard_normal((2, 3, 3, 4, 4, 5)).astype(np.float32), device)
    out = mg.backend.array_module_for(device).empty((2, 8, 8, 5), np.float32)
    assert ops.col2im(cols, (3, 3), (2, 2), (1, 1), out) is out
    monkeypatch.setattr(mg.dispatch, "DISABLED", {"col2im"})
    assert ops.col2im(cols, (3, 3), (2, 2), (1, 1), out) is None
    assert ops.leaky_relu(cols, 0.2) is not None
    assert set(ops.NAMES) >= {"col2im", "batchnorm", "adam_many", "zero_many", "bce_with_logits"}


def test_conv_tf32_is_opt_in_and_only_rounds_the_inputs(device, rng, monkeypatch):
    """``mg.backend.conv_tf32`` runs a convolution's products in TF32 on a GPU: results move by
    TF32's rounding (10-bit mantissas: < 2e-3 of the output's scale here), not more; off by
    default, and ignored on the CPU (bit-identical there)."""
    assert mg.backend.conv_tf32 is False
    conv = nn.Conv2d(16, 32, 5, stride=2, padding=2).to(device)
    x = mg.to_device(rng.standard_normal((8, 16, 14, 14)).astype(np.float32), device)
    exact = mg.asnumpy(conv(x))
    monkeypatch.setattr(mg.backend, "conv_tf32", True)
    tf32 = mg.asnumpy(conv(x))
    if device == "cpu":
        np.testing.assert_array_equal(tf32, exact)
        return
    error = np.abs(tf32 - exact).max() / np.abs(exact).max()
    assert 0 < error < 2e-3, f"TF32 changed the output by {error:.2e} of its scale"
