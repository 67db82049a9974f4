"""The Winograd convolutions (minigan/kernels/winograd.py, winograd_cpu.py) against the plain
im2col/col2im path and PyTorch: each tile transform against its adjoint and its formula, the
three products (forward, ∂L/∂x, ∂L/∂w) against im2col's, and Conv2d / ConvTranspose2d with
the path forced on (float64 and float32, bias or not)."""
import copy

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.kernels import ops, winograd, winograd_cpu
from minigan.kernels.workspace import Workspace
from minigan.nn.im2col import col2im, im2col
from torch_mirror import assert_gradcheck_and_torch, rel_err

# (C, Co, (H, W), N): the correlation's input channels, output channels, input size, batch
SHAPES = [(2, 3, (4, 4), 1), (3, 2, (8, 12), 2), (1, 4, (12, 8), 3), (4, 4, (16, 16), 2)]


@pytest.fixture
def forced(monkeypatch):
    """The layers take the Winograd path whatever their channel counts and batch."""
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1)
    monkeypatch.setattr(winograd, "MIN_COLUMNS", 1)


def _reference(x, w, dy):
    """y, ∂L/∂w and ∂L/∂x of the 4×4 stride-2 padding-1 correlation by im2col and col2im."""
    C, H, W, N = x.shape
    Co = w.shape[0]
    cols = im2col(x, (4, 4), (2, 2), (1, 1), (H // 2, W // 2))                # (C·16, Ho·Wo·N)
    y = (w.reshape(Co, -1) @ cols).reshape(Co, H // 2, W // 2, N)
    dw = (dy.reshape(Co, -1) @ cols.T).reshape(w.shape)
    dx = col2im(w.reshape(Co, -1).T @ dy.reshape(Co, -1), C, (H, W), (4, 4), (2, 2), (1, 1), (H // 2, W // 2))
    return y, dw, dx


@pytest.mark.parametrize("C,Co,hw,N", SHAPES)
def test_products_match_im2col(C, Co, hw, N):
    r = np.random.default_rng(C * 10 + Co)
    x = r.standard_normal((C, *hw, N))
    w = r.standard_normal((Co, C, 4, 4))
    dy = r.standard_normal((Co, hw[0] // 2, hw[1] // 2, N))
    y0, dw0, dx0 = _reference(x, w, dy)
    ws = Workspace()
    U = winograd.transform_weight(w, ws, "t")
    V = winograd.transform_input(x, ws, "t")
    y = winograd.correlate(V, U, (hw[0] // 2, hw[1] // 2), N, ws, "t")
    np.testing.assert_allclose(y, y0, rtol=1e-12, atol=1e-12)
    E = winograd.transform_gradient(dy, ws, "t")
    dx = winograd.correlate_adjoint(E, U, hw, N, ws, "t")
    np.testing.assert_allclose(dx, dx0, rtol=1e-12, atol=1e-12)
    dw = np.ones_like(w)
    winograd.weight_grad(E, V, dw, ws, "t")                                   # adds to the gradient
    np.testing.assert_allclose(dw, 1 + dw0, rtol=1e-12, atol=1e-12)


def _transpose_pairs(C, Co, hw, N):
    """(forward kernel, adjoint kernel, input shape, output shape) of each transform pair."""
    TN = (hw[0] // 4) * (hw[1] // 4) * N
    L = TN + winograd.PAD
    return [
        ("input_transform", "input_transform_adjoint", (C, *hw, N), (4 * C, 9, L)),
        ("output_transform_adjoint", "output_transform", (Co, hw[0] // 2, hw[1] // 2, N), (Co, 9, L)),
        ("weight_transform", "weight_transform_adjoint", (Co, C, 4, 4), (Co, 9, 4 * C + winograd.PAD)),
    ]


@pytest.mark.parametrize("C,Co,hw,N", SHAPES)
def test_each_transform_is_the_transpose_of_its_adjoint(C, Co, hw, N):
    """⟨T a, b⟩ = ⟨a, Tᵀ b⟩ for random a, b: the backward of every transform is exactly the
    transpose of its forward (the padding numbers of the (…, 9, L) layout are left out)."""
    r = np.random.default_rng(7)
    cols = (hw[0] // 4) * (hw[1] // 4) * N
    for forward, adjoint, a_shape, b_shape in _transpose_pairs(C, Co, hw, N):
        a = r.standard_normal(a_shape)
        b = r.standard_normal(b_shape)
        used = cols if forward != "weight_transform" else 4 * C
        b[:, :, used:] = 0
        Ta = np.zeros(b_shape)
        getattr(ops, {"input_transform": "winograd_input", "output_transform_adjoint": "winograd_gradient",
                      "weight_transform": "winograd_weight"}[forward])(a, Ta)
        Tb = np.zeros(a_shape)
        if adjoint == "weight_transform_adjoint":
            ops.winograd_weight_adjoint(b, Tb)
        else:
            getattr(ops, {"input_transform_adjoint": "winograd_input_adjoint",
                          "output_transform": "winograd_output"}[adjoint])(b, Tb)
        np.testing.assert_allclose((Ta[:, :, :used] * b[:, :, :used]).sum(), (a * Tb).sum(), rtol=1e-11)


def test_transforms_follow_the_formulas():
    """One tile by hand: Bᵀ d B, A e Aᵀ, G g Gᵀ with Bᵀ = [[1,−1,0],[0,1,0],[0,−1,1]],
    A = [[1,0],[1,1],[0,1]], G = A (winograd.py's docstring)."""
    Bt = np.array([[1, -1, 0], [0, 1, 0], [0, -1, 1]], float)
    A = np.array([[1, 0], [1, 1], [0, 1]], float)
    r = np.random.default_rng(3)
    x = r.standard_normal((1, 4, 4, 1))                          # one tile: x[0, -1 … 4] with padding
    V = np.zeros((4, 9, 1 + winograd.PAD))
    winograd_cpu.input_transform(x, V)
    padded = np.pad(x[0, :, :, 0], 1)                           # (6, 6)
    for a in range(2):
        for b in range(2):
            d = padded[a::2, b::2][:3, :3]                      # X[(0, a, b), 0:3, 0:3]
            np.testing.assert_allclose(V[2 * a + b, :, 0], (Bt @ d @ Bt.T).ravel(), rtol=1e-12)
    e = r.standard_normal((1, 2, 2, 1))
    E = np.zeros((1, 9, 1 + winograd.PAD))
    winograd_cpu.output_transform_adjoint(e, E)
    np.testing.assert_allclose(E[0, :, 0], (A @ e[0, :, :, 0] @ A.T).ravel(), rtol=1e-12)
    w = r.standard_normal((1, 1, 4, 4))
    U = np.zeros((1, 9, 4 + winograd.PAD))
    winograd_cpu.weight_transform(w, U)
    for a in range(2):
        for b in range(2):
            g = w[0, 0, a::2, b::2]                             # g[p, q] = w[2p + a, 2q + b]
            np.testing.assert_allclose(U[0, :, 2 * a + b], (A @ g @ A.T).ravel(), rtol=1e-12)


def _layers():
    for C, Co, hw, N in SHAPES:
        yield nn.Conv2d(C, Co, 4, 2, 1, bias=C != 2), (N, C, *hw)
        yield nn.ConvTranspose2d(Co, C, 4, 2, 1, bias=C == 2), (N, Co, hw[0] // 2, hw[1] // 2)


LAYERS = list(_layers())


def _run(module, x, dy, disabled, monkeypatch, need_input_grad=True):
    monkeypatch.setattr(mg.dispatch, "DISABLED", disabled)
    m = copy.deepcopy(module)
    y = m(x)
    dx = m.backward(dy, need_input_grad=need_input_grad)
    return [None if dx is None else mg.asnumpy(dx), mg.asnumpy(y), *[mg.asnumpy(p.grad) for p in m.parameters()]]


@pytest.mark.parametrize("index", range(len(LAYERS)))
def test_layers_by_winograd_equal_plain(index, forced, monkeypatch):
    module, shape = LAYERS[index]
    module = copy.deepcopy(module).double()
    r = np.random.default_rng(index)
    x = r.standard_normal(shape)
    dy = r.standard_normal(module(x).shape)
    with mg.dispatch.use("plain"):
        plain = _run(module, x, dy, set(), monkeypatch)
    fast = _run(module, x, dy, set(), monkeypatch)
    for a, b in zip(fast, plain):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-11)
    weights_only = _run(module, x, dy, set(), monkeypatch, need_input_grad=False)
    assert weights_only[0] is None
    for a, b in zip(weights_only[1:], plain[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-11)


def test_layers_take_the_winograd_path(forced, monkeypatch):
    """The forced layers really run here (and not by im2col): the kernels are switched off
    by name, and the results change path but not value."""
    calls = []
    original = ops.winograd_input

    def counting(*args):
        calls.append(1)
        return original(*args)
    monkeypatch.setattr(ops, "winograd_input", counting)
    conv = nn.Conv2d(3, 4, 4, 2, 1).double()
    conv(np.ones((1, 3, 8, 8)))
    assert calls
    calls.clear()
    monkeypatch.setattr(mg.dispatch, "DISABLED", {"winograd"})
    conv(np.ones((1, 3, 8, 8)))
    assert not calls


def test_dcgan64_layers_use_winograd_and_thin_gemms_do_not():
    """The rule: kernel 4, stride 2, padding 1, sides divisible by 4, ≥ MIN_CHANNELS channels
    on both sides and ≥ MIN_COLUMNS tiles·N; RGB's 3 channels (D's first layer, G's last) and
    the 8×8 ↔ 4×4 layers at batch 16 keep the im2col GEMM."""
    x = np.zeros((16, 1, 1, 1), np.float32)                   # a batch of 16
    x32 = np.zeros((32, 1, 1, 1), np.float32)
    assert winograd.applies(x, 64, 128, (4, 4), (2, 2), (1, 1), (32, 32))
    assert winograd.applies(x, 128, 256, (4, 4), (2, 2), (1, 1), (16, 16))
    assert not winograd.applies(x, 256, 512, (4, 4), (2, 2), (1, 1), (8, 8))   # 2·2 tiles · 16
    assert winograd.applies(x32, 256, 512, (4, 4), (2, 2), (1, 1), (8, 8))    # 2·2 tiles · 32
    assert not winograd.applies(x, 3, 64, (4, 4), (2, 2), (1, 1), (64, 64))
    assert not winograd.applies(x, 64, 128, (4, 4), (2, 2), (1, 1), (30, 32))
    assert not winograd.applies(x, 64, 128, (5, 5), (2, 2), (2, 2), (32, 32))
    assert not winograd.applies(x, 64, 128, (4, 4), (2, 2), (2, 2), (32, 32))
    assert not winograd.applies(x, 64, 128, (4, 4), (1, 1), (1, 1), (32, 32))


def test_float32_dcgan64_layers_match_plain(monkeypatch):
    """Real sizes in float32 and the unforced rule (the path the 64×64 DCGAN runs): within
    float32 rounding of the plain float64 result."""
    calls = []
    original = ops.winograd_weight
    monkeypatch.setattr(ops, "winograd_weight", lambda *a: calls.append(1) or original(*a))
    r = np.random.default_rng(5)
    for module, shape in ((nn.Conv2d(32, 64, 4, 2, 1, bias=False), (8, 32, 16, 16)),
                          (nn.ConvTranspose2d(64, 32, 4, 2, 1, bias=False), (8, 64, 8, 8))):
        x = r.standard_normal(shape).astype(np.float32)
        ref = copy.deepcopy(module).double()
        y = module(x)
        dy = r.standard_normal(y.shape).astype(np.float32)
        dx = module.backward(dy)
        with mg.dispatch.use("plain"):
            y0 = ref(x.astype(np.float64))
            dx0 = ref.backward(dy.astype(np.float64))
        assert y.dtype == dx.dtype == module.weight.grad.dtype == np.float32
        assert rel_err(y, y0) < 1e-5 and rel_err(dx, dx0) < 1e-5
        assert rel_err(module.weight.grad, ref.weight.grad) < 1e-5
    assert len(calls) == 2                                      # both ran by Winograd tiles


@pytest.mark.oracle
@pytest.mark.parametrize("index", range(len(LAYERS)))
def test_layers_by_winograd_gradcheck_and_torch(index, forced, rng):
    module, shape = LAYERS[index]
    module = copy.deepcopy(module).double()
    assert_gradcheck_and_torch(module, rng.standard_normal(shape), rng, tol=1e-10)
