"""Dropout's masks on the CPU: a function of (key, sample, feature) by Philox4x32-10, made in the
numba kernel and by the plain NumPy twin alike — the same bits, the right distribution,
independent between calls and between neighbours, reproducible from minigan's generator, and
sliceable by sample for data-parallel training."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn, philox
from minigan.nn.dropout import keep_mask, keep_threshold
from minigan.kernels.layout import batch_first


def _batch_last(a):
    """The values of ``a`` as a batch-last array (minigan's own layout)."""
    return batch_first(np.ascontiguousarray(np.moveaxis(a, 0, -1)))


def _run(shape, p, fast, monkeypatch, seed=3, first_sample=0, x=None):
    monkeypatch.setattr(mg.dispatch, "ENABLED", fast)
    r = np.random.default_rng(0)
    x = _batch_last(r.standard_normal(shape).astype(np.float32)) if x is None else x
    dy = _batch_last(r.standard_normal(shape).astype(np.float32))
    mg.seed(seed)
    d = nn.Dropout(p)
    d.first_sample = first_sample
    y = d(x)
    return y, d.backward(dy), d.mask()


@pytest.mark.parametrize("shape", [(16, 8, 5, 5), (7, 3), (5, 6), (3, 1), (33, 2, 3, 3)])
@pytest.mark.parametrize("p", [0.3, 0.5, 0.9])
def test_kernel_mask_equals_numpy_mask(shape, p, monkeypatch):
    """MINIGAN_KERNELS=numpy gives the very same outputs (features not a multiple of 4 too)."""
    for a, b in zip(_run(shape, p, True, monkeypatch, first_sample=5),
                    _run(shape, p, False, monkeypatch, first_sample=5)):
        np.testing.assert_array_equal(a, b)


def test_mask_is_the_documented_philox_function():
    key, p, n, F = (0x1234, 0xBEEF), 0.3, 3, 10
    keep = keep_mask(key, p, n, F, first_sample=7)
    B = 3                                                   # ⌈10/4⌉ blocks per sample
    for i in range(n):
        for f in range(F):
            words = philox.philox4x32([(7 + i) * B + f // 4], key)
            assert keep[i, f] == (int(words[f % 4][0]) >= keep_threshold(p))


def test_a_slice_of_the_batch_is_a_slice_of_the_mask(monkeypatch):
    """Data parallel: samples [s, s + n) with first_sample = s get the global mask's rows."""
    shape = (12, 3, 4, 4)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    y_all = _run(shape, 0.4, True, monkeypatch, x=_batch_last(x))[0]
    for s, n in ((0, 5), (5, 4), (9, 3)):
        y_part = _run((n,) + shape[1:], 0.4, True, monkeypatch, first_sample=s, x=_batch_last(x[s:s + n]))[0]
        np.testing.assert_array_equal(y_part, y_all[s:s + n])
    np.testing.assert_array_equal(keep_mask((3, 4), 0.5, 4, 7, first_sample=2),
                                  keep_mask((3, 4), 0.5, 8, 7)[2:6])


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.9])
def test_keep_fraction_within_binomial_bounds(p):
    n = 64 * 6272
    kept = keep_mask((11, 22), p, 64, 6272).sum()
    sd = np.sqrt(n * p * (1 - p))
    assert abs(kept - n * (1 - p)) < 5 * sd


def test_masks_independent_across_calls_and_neighbours(monkeypatch):
    """Two forwards draw two keys: their masks agree as often as independent coins would, and
    within a mask neighbouring features and neighbouring samples are uncorrelated."""
    monkeypatch.setattr(mg.dispatch, "ENABLED", True)
    p, shape = 0.3, (64, 32, 7, 7)
    x = _batch_last(np.ones(shape, np.float32))
    mg.seed(0)
    d = nn.Dropout(p)
    d(x)
    a = d.mask() > 0
    d(x)
    b = d.mask() > 0
    n = a.size
    q = 1 - p
    agree = (a == b).mean()
    expected = q * q + p * p
    assert abs(agree - expected) < 5 * np.sqrt(expected * (1 - expected) / n)
    flat = a.reshape(64, -1).astype(np.float64)
    for u, v in ((flat[:, 1:], flat[:, :-1]), (flat[1:], flat[:-1]), (flat[:, 4:], flat[:, :-4])):
        r = np.corrcoef(u.ravel(), v.ravel())[0, 1]
        assert abs(r) < 5 / np.sqrt(u.size)


def test_masks_reproducible_from_the_generator_state(monkeypatch):
    """The generator's state (what checkpoints save) fixes the next masks exactly."""
    monkeypatch.setattr(mg.dispatch, "ENABLED", True)
    x = _batch_last(np.ones((8, 4, 3, 3), np.float32))
    d = nn.Dropout(0.5)
    mg.seed(42)
    d(x)
    state = mg.backend.rng_state()
    first = [d(x).copy() for _ in range(3)]
    mg.backend.set_rng_state(state)
    again = [d(x).copy() for _ in range(3)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])
    mg.seed(42)
    d(x)
    np.testing.assert_array_equal(d(x), first[0])


def test_extreme_rates_and_eval(monkeypatch):
    x = _batch_last(np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32))
    for fast in (True, False):
        monkeypatch.setattr(mg.dispatch, "ENABLED", fast)
        np.testing.assert_array_equal(nn.Dropout(0.0)(x), x)
        d = nn.Dropout(1.0)
        np.testing.assert_array_equal(d(x), np.zeros_like(x))
        np.testing.assert_array_equal(d.backward(x), np.zeros_like(x))
        np.testing.assert_array_equal(nn.Dropout(0.5).eval()(x), x)
    assert keep_threshold(0.0) == 0 and keep_threshold(1.0) == 2 ** 32


def test_empty_batch_and_single_feature(monkeypatch):
    for fast in (True, False):
        monkeypatch.setattr(mg.dispatch, "ENABLED", fast)
        assert nn.Dropout(0.5)(np.zeros((0, 3), np.float32)).shape == (0, 3)
        y = nn.Dropout(0.5)(np.ones(40, np.float32))                  # 40 samples of one feature
        assert set(np.unique(y)) <= {0.0, 2.0}


@pytest.mark.parametrize("shape", [(16, 8, 5, 5), (7, 3), (33, 2, 3, 3)])
def test_the_device_drops_what_the_cpu_drops(shape, device, monkeypatch):
    """With ``--device cuda`` the CUDA kernel (its key also drawn from the CPU generator) makes
    the numba kernel's mask and outputs, bit for bit (on the CPU this compares the numba
    kernel with itself)."""
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    expected = _run(shape, 0.3, True, monkeypatch, first_sample=3, x=_batch_last(x))
    monkeypatch.setattr(mg.dispatch, "ENABLED", True)
    mg.seed(3)
    d = nn.Dropout(0.3).to(device)
    d.first_sample = 3
    xp = mg.backend.array_module_for(device)
    on_device = [batch_first(xp.ascontiguousarray(xp.moveaxis(xp.asarray(a), 0, -1)))   # batch-last
                 for a in (x, np.random.default_rng(0).standard_normal(shape).astype(np.float32))]
    y = d(on_device[0])
    dx = d.backward(on_device[1])                          # the same dy as _run's
    for a, b in zip((y, dx, d.mask()), expected):
        np.testing.assert_array_equal(mg.asnumpy(a), b)
