"""Philox4x32-10, the generator minigan draws from on the GPU: the published known answers,
the NumPy reference, its distributions, and a state small enough to checkpoint exactly."""
import json

import numpy as np
import pytest

import minigan as mg
from minigan import philox
from minigan.philox import PhiloxGenerator


def _philox_on_ints(counter_words, key):
    """Philox4x32-10 written out on Python ints, with all four counter words."""
    c, (k0, k1) = list(counter_words), key
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k0, p1 & 0xFFFFFFFF, (p0 >> 32) ^ c[3] ^ k1, p0 & 0xFFFFFFFF]
        k0, k1 = (k0 + 0x9E3779B9) & 0xFFFFFFFF, (k1 + 0xBB67AE85) & 0xFFFFFFFF
    return c


def test_known_answers():
    """The test vectors published with Random123 (Salmon et al. 2011)."""
    assert _philox_on_ints([0, 0, 0, 0], (0, 0)) == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]
    assert _philox_on_ints([0xFFFFFFFF] * 4, (0xFFFFFFFF, 0xFFFFFFFF)) == \
        [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]
    assert _philox_on_ints([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], (0xA4093822, 0x299F31D0)) == \
        [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]
    assert [int(w[0]) for w in philox.philox4x32([0], (0, 0))] == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]


def test_numpy_reference_matches_the_rounds_on_ints():
    r = np.random.default_rng(0)
    counters = r.integers(0, 2 ** 63, 20, dtype=np.uint64)
    key = (int(r.integers(0, 2 ** 32)), int(r.integers(0, 2 ** 32)))
    words = np.stack(philox.philox4x32(counters, key), axis=1)
    for c, w in zip(counters, words):
        assert [int(v) for v in w] == _philox_on_ints([int(c) & 0xFFFFFFFF, int(c) >> 32, 0, 0], key)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_distributions(dtype):
    g = PhiloxGenerator(1, device="cpu")
    u = g.random(200_000, dtype=dtype)
    assert u.dtype == dtype and u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.003 and abs(u.var() - 1 / 12) < 0.002
    z = g.standard_normal(200_000, dtype=dtype)
    assert z.dtype == dtype and np.isfinite(z).all()
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert abs((np.abs(z) < 1).mean() - 0.6827) < 0.005                # the normal's shape too


def test_draws_take_consecutive_blocks():
    g = PhiloxGenerator(3, device="cpu")
    a, b = g.random(10), g.random((2, 3))          # 10 float32 values use blocks 0, 1, 2
    np.testing.assert_array_equal(a, philox.uniform(10, 0, g.key))
    np.testing.assert_array_equal(b.ravel(), philox.uniform(6, 3, g.key))
    assert g.counter == 5 and b.shape == (2, 3)


def test_state_round_trip_is_exact_and_json():
    g = PhiloxGenerator(7, device="cpu")
    g.random(33)
    state = json.loads(json.dumps(g.state))
    first = g.standard_normal(9), g.random(4, dtype=np.float64)
    h = PhiloxGenerator(0, device="cpu")
    h.state = state
    again = h.standard_normal(9), h.random(4, dtype=np.float64)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="cannot restore"):
        h.state = {"algorithm": "xorwow", "key": [1, 2], "counter": 0}


def test_seeds_give_different_streams():
    a, b = PhiloxGenerator(1, "cpu").random(100), PhiloxGenerator(2, "cpu").random(100)
    assert not np.array_equal(a, b)


def test_minigan_checkpoints_the_gpu_generator_without_cupy():
    """mg.rng("cuda") is a Philox generator whose state is saved and restored like NumPy's;
    creating it, saving and restoring it need no GPU."""
    mg.seed(11)
    gen = mg.backend.rng("cuda")
    assert isinstance(gen, PhiloxGenerator)
    gen.counter = 1234                        # as if 1234 blocks had been drawn on the GPU
    state = json.loads(json.dumps(mg.backend.rng_state()))
    assert state["cuda"]["counter"] == 1234
    mg.seed(11)
    assert mg.backend.rng("cuda").counter == 0
    mg.backend.set_rng_state(state)
    assert mg.backend.rng("cuda").counter == 1234 and mg.backend.rng("cuda").key == gen.key
    mg.backend.set_rng_state({"cpu": None, "cuda": None})   # old checkpoints: left as is
    assert mg.backend.rng("cuda").counter == 1234


def test_fixed_rng_replays_on_the_gpu_generator():
    mg.seed(0)
    with mg.backend.fixed_rng("cuda", 5):
        inner = mg.backend.rng("cuda")
        assert inner.key == PhiloxGenerator(5).key and inner.counter == 0
    assert mg.backend.rng("cuda") is not inner


@pytest.mark.gpu
@pytest.mark.parametrize("kind", ["uniform", "normal"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 4099, 300_001])
def test_gpu_kernel_matches_numpy_reference(kind, dtype, n):
    gpu, cpu = PhiloxGenerator(9, device="cuda", fill=mg.backend._philox_fill_gpu), PhiloxGenerator(9, device="cpu")
    gpu.counter = cpu.counter = 2 ** 40 + 3       # counters past 32 bits
    draw = "random" if kind == "uniform" else "standard_normal"
    a = mg.asnumpy(getattr(gpu, draw)(n, dtype=dtype))
    b = getattr(cpu, draw)(n, dtype=dtype)
    assert a.dtype == dtype and a.shape == (n,) and gpu.counter == cpu.counter
    if kind == "uniform":
        np.testing.assert_array_equal(a, b)                       # integer arithmetic: exact
    else:   # log/cos/sin in float64 may differ by an ulp between CUDA's libm and the host's
        np.testing.assert_allclose(a, b, rtol=1e-6 if dtype == np.float32 else 1e-13, atol=1e-12)
