"""Convolutions without work on padding (minigan/kernels/conv_taps.py) against the plain
im2col/col2im path and PyTorch: the runs of in-image taps, the correlation by row runs, its
weight gradient, the transposed correlation by phases, and the layers with these paths forced
on (float64, odd sizes, strides, paddings, output_padding, kernels smaller than the stride)."""
import copy

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.kernels import conv_taps
from minigan.kernels.workspace import Workspace
from minigan.nn.im2col import col2im, im2col
from torch_mirror import assert_gradcheck_and_torch

# (Cin, Cout, kernel, stride, padding, (H, W))
CONV_SHAPES = [
    (3, 4, (5, 5), (2, 2), (2, 2), (7, 7)),
    (2, 3, (5, 5), (1, 1), (2, 2), (7, 6)),
    (3, 2, (3, 2), (2, 1), (1, 0), (6, 5)),
    (2, 2, (1, 1), (1, 1), (1, 1), (3, 4)),
    (1, 3, (3, 3), (3, 3), (2, 2), (5, 8)),
    (2, 2, (4, 4), (2, 2), (3, 1), (5, 5)),
    (2, 3, (2, 3), (3, 2), (0, 2), (7, 4)),
]
# (Cin, Cout, kernel, stride, padding, output_padding, (H, W))
CONVT_SHAPES = [
    (3, 4, (5, 5), (1, 1), (2, 2), (0, 0), (7, 7)),
    (3, 2, (5, 5), (2, 2), (2, 2), (1, 1), (4, 4)),
    (2, 3, (3, 2), (2, 1), (1, 0), (1, 0), (3, 4)),
    (2, 2, (4, 4), (2, 2), (1, 1), (0, 0), (3, 3)),
    (2, 3, (2, 2), (3, 3), (0, 0), (2, 1), (3, 3)),      # kernel smaller than the stride
    (3, 2, (3, 3), (2, 2), (2, 2), (1, 1), (4, 5)),
    (1, 2, (5, 3), (3, 2), (4, 1), (2, 1), (2, 3)),
]


@pytest.fixture(params=["numba", "numpy"])
def gather_kind(request, monkeypatch):
    """Both twins of the block gather: the numba kernel and the strided NumPy slices."""
    monkeypatch.setattr(mg.dispatch, "DISABLED", set() if request.param == "numba" else {"im2col"})
    return request.param


@pytest.mark.parametrize("n_out,n_in,k,s,p", [(7, 7, 5, 1, 2), (7, 14, 5, 2, 2), (4, 6, 3, 2, 2),
                                              (5, 3, 1, 1, 1), (3, 2, 4, 3, 4), (9, 9, 3, 1, 0)])
def test_axis_runs_are_exactly_the_in_image_taps(n_out, n_in, k, s, p):
    runs = conv_taps.axis_runs(n_out, n_in, k, s, p)
    assert [o for o0, o1, _, _ in runs for o in range(o0, o1)] == list(range(n_out))
    for o0, o1, t0, t1 in runs:
        for o in range(o0, o1):
            assert [i for i in range(k) if 0 <= o * s + i - p < n_in] == list(range(t0, t1))
    fraction = conv_taps.useful_fraction(n_out, n_in, k, s, p)
    assert fraction == sum(t1 - t0 for o0, o1, t0, t1 in runs for _ in range(o0, o1)) / (n_out * k)


@pytest.mark.parametrize("cin,cout,k,s,p,hw", CONV_SHAPES)
def test_correlate_and_weight_grad_match_im2col(cin, cout, k, s, p, hw, gather_kind):
    r = np.random.default_rng(0)
    x = r.standard_normal((cin, *hw, 3))                                 # (C, H, W, N)
    w = r.standard_normal((cout, cin, *k))
    out_hw = tuple((n + 2 * pp - kk) // ss + 1 for n, kk, ss, pp in zip(hw, k, s, p))
    cols = im2col(x, k, s, p, out_hw)
    expected = (w.reshape(cout, -1) @ cols).reshape(cout, *out_hw, 3)
    y = np.full((cout, *out_hw, 3), np.nan)
    blocks = conv_taps.correlate(x, w, s, p, out_hw, Workspace(), "t", out=y)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    g = r.standard_normal(y.shape)
    dw = np.zeros_like(w)
    conv_taps.weight_grad(g, blocks, dw, Workspace(), "t")
    np.testing.assert_allclose(dw, (g.reshape(cout, -1) @ cols.T).reshape(w.shape), rtol=1e-12, atol=1e-12)
    only = conv_taps.correlate(x, w, s, p, out_hw, Workspace(), "t")     # gather only, same blocks
    for (rows_a, a), (rows_b, b) in zip(blocks, only):
        assert rows_a == rows_b
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cin,cout,k,s,p,op,hw", CONVT_SHAPES)
def test_transposed_by_phases_matches_gemm_and_col2im(cin, cout, k, s, p, op, hw, gather_kind):
    r = np.random.default_rng(1)
    x = r.standard_normal((cin, *hw, 2))
    w = r.standard_normal((cin, cout, *k))
    out_hw = tuple((n - 1) * ss - 2 * pp + kk + o for n, ss, pp, kk, o in zip(hw, s, p, k, op))
    cols = w.reshape(cin, -1).T @ x.reshape(cin, -1)
    expected = col2im(cols, cout, out_hw, k, s, p, hw)
    y = conv_taps.transposed(x, w, s, p, out_hw, Workspace(), "t")
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@pytest.fixture
def forced(monkeypatch):
    """The layers take the padding-free paths whatever their size (the heuristics would pick
    them only where they pay)."""
    monkeypatch.setattr(conv_taps, "rows_worth_splitting", lambda *a, **k: True)
    monkeypatch.setattr(conv_taps, "phases_worth_it", lambda *a, **k: True)


def _layers():
    for cin, cout, k, s, p, hw in CONV_SHAPES:
        yield nn.Conv2d(cin, cout, k, s, p, bias=cin != 2), (2, cin, *hw)
    for cin, cout, k, s, p, op, hw in CONVT_SHAPES:
        yield nn.ConvTranspose2d(cin, cout, k, s, p, op, bias=cin != 2), (2, cin, *hw)


LAYERS = list(_layers())


def _run(module, x, dy, disabled, monkeypatch):
    monkeypatch.setattr(mg.dispatch, "DISABLED", disabled)
    m = copy.deepcopy(module)
    y = m(x)
    return [mg.asnumpy(a) for a in (y, m.backward(dy), *[p.grad for p in m.parameters()])]


@pytest.mark.parametrize("index", range(len(LAYERS)))
def test_layers_padding_free_equal_plain(index, forced, monkeypatch):
    module, shape = LAYERS[index]
    module = copy.deepcopy(module).double()
    r = np.random.default_rng(index)
    x = r.standard_normal(shape)
    dy = r.standard_normal(module(x).shape)
    plain = _run(module, x, dy, {"conv_taps"}, monkeypatch)
    for disabled in (set(), {"im2col"}):
        for a, b in zip(_run(module, x, dy, disabled, monkeypatch), plain):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.oracle
@pytest.mark.parametrize("index", range(len(LAYERS)))
def test_layers_padding_free_gradcheck_and_torch(index, forced, rng):
    module, shape = LAYERS[index]
    module = copy.deepcopy(module).double()
    assert_gradcheck_and_torch(module, rng.standard_normal(shape), rng, tol=1e-6)


def test_weight_grad_without_input_grad(forced):
    """ConvTranspose2d's backward gathers its blocks even when dL/dx is not wanted."""
    r = np.random.default_rng(3)
    a = nn.ConvTranspose2d(3, 2, 5, 1, 2).double()
    b = copy.deepcopy(a)
    x = r.standard_normal((2, 3, 4, 4))
    dy = r.standard_normal(a(x).shape)
    b(x)
    a.backward(dy)
    assert b.backward(dy, need_input_grad=False) is None
    np.testing.assert_allclose(b.weight.grad, a.weight.grad, rtol=1e-12)
    np.testing.assert_allclose(b.bias.grad, a.bias.grad, rtol=1e-12)


def test_heuristics_pick_the_dcgan_paths():
    """Measured on this project's 2-core CPU: row runs pay for the stride-1 5×5 on 7×7 (17% of
    the row taps are padding), not for the stride-2 ones (8.6%); phases never pay for the
    DCGAN's transposed convolutions, whose inputs have more channels than their outputs. The
    64×64 DCGAN's 4×4 stride-2 convolutions stay one GEMM, also between 8×8 and 4×4 maps
    (12.5% padding: the runs' GEMMs were too small)."""
    assert conv_taps.rows_worth_splitting(7, 7, 5, 1, 2)
    assert not conv_taps.rows_worth_splitting(7, 14, 5, 2, 2)
    for n_in in (8, 16, 32, 64):     # Conv2d's forward, and ConvTranspose2d's backward, n_in → n_in / 2
        assert not conv_taps.rows_worth_splitting(n_in // 2, n_in, 4, 2, 1)
    assert not conv_taps.phases_worth_it(256, 128, conv_taps.useful_fraction(7, 7, 5, 1, 2))
    assert conv_taps.phases_worth_it(16, 64, conv_taps.useful_fraction(7, 14, 5, 2, 2))
