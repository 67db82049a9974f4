"""Batches: the real batch, the noise and D's targets of each step, from one seeded stream."""
import numpy as np
import pytest

from minigan.distributed.data_parallel import SingleProcess
from minigan.gan.batches import Batches
from minigan.gan.config import TrainConfig


def batches(data=None, sampler=None, **cfg):
    cfg = TrainConfig(**dict(dict(z_dim=3, batch_size=4, seed=7), **cfg))
    if data is None and sampler is None:
        data = np.arange(10 * 2, dtype=np.float32).reshape(10, 2)
    return Batches(cfg, data=data, real_sampler=sampler, parallel=SingleProcess())


def test_steps_per_epoch_and_the_epoch_order():
    b = batches()
    assert b.n_data == 10 and b.steps_per_epoch == 2          # 10 // 4: the rest is dropped
    b.new_epoch()
    assert sorted(b.perm) == list(range(10))
    first = b.real_batch(0)
    assert first.dtype == np.float32 and np.array_equal(first[:, 0] // 2, b.perm[:4])
    assert np.array_equal(b.real_batch(1)[:, 0] // 2, b.perm[4:8])


def test_noise_kinds():
    gen = np.random.default_rng(0)
    assert batches(noise="normal").noise(gen, 5).shape == (5, 3)
    u = batches(noise="uniform").noise(gen, 100)
    assert u.dtype == np.float32 and 0 <= u.min() and u.max() < 1
    assert np.array_equal(batches(noise="ones").noise(gen, 2), np.ones((2, 3), np.float32))


def test_labels_hard_soft_and_flipped():
    t_real, t_fake = batches().make_labels(6)
    assert t_real.shape == (6, 1) and (t_real == 1).all() and (t_fake == 0).all()
    t_real, t_fake = batches(real_label=(0.9, 1.1), fake_label=(0.0, 0.2)).make_labels(500)
    assert 0.9 <= t_real.min() and t_real.max() <= 1.1 and 0 <= t_fake.min() and t_fake.max() <= 0.2
    t_real, t_fake = batches(flip_prob=0.5).make_labels(500)
    assert 0 < (t_real == 0).sum() < 500 and np.array_equal(t_real + t_fake, np.ones((500, 1)))


def test_a_sampler_and_the_checks():
    b = batches(sampler=lambda rng, n: rng.random((n, 2)), steps_per_epoch=3)
    assert b.n_data is None and b.steps_per_epoch == 3 and b.real_batch(0).shape == (4, 2)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        batches(sampler=lambda rng, n: rng.random((n, 2)))
    with pytest.raises(ValueError, match="exactly one"):
        Batches(TrainConfig(), parallel=SingleProcess())
    with pytest.raises(ValueError, match="larger than the data set"):
        batches(batch_size=11)


def test_the_state_continues_the_stream_exactly():
    a = batches()
    a.new_epoch()
    arrays, meta = a.state()
    expected = (a.sample_noise(4), a.make_labels(4))
    b = batches()
    b.load_state(arrays, meta)
    assert np.array_equal(b.perm, a.perm)
    assert np.array_equal(b.sample_noise(4), expected[0])
    assert all(np.array_equal(x, y) for x, y in zip(b.make_labels(4), expected[1]))


def test_the_real_sample_leaves_the_stream_alone():
    b = batches()
    before = b.rng.bit_generator.state
    sample = b.real_sample(6, np.random.default_rng(1))
    assert sample.shape == (6, 2) and len(np.unique(sample[:, 0])) == 6
    assert b.rng.bit_generator.state == before
