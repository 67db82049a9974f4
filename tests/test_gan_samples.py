"""Samples: G (or its average) in eval mode, on fixed or seeded noise, exported as an array."""
import numpy as np

import minigan as mg
from minigan import nn
from minigan.gan.config import TrainConfig
from minigan.gan.ema import GeneratorAverage
from minigan.gan.outputs import OutputFolder
from minigan.gan.samples import Samples


def noise(gen, n):
    return gen.standard_normal((n, 3), dtype=np.float32)


def generator():
    mg.seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh())


def samples(G, **kw):
    return Samples(G, noise, TrainConfig(z_dim=3, n_fixed=6, seed=2), image_shape=(1, 2, 2), **kw)


def test_generate_in_eval_mode_and_restore_the_mode():
    G = generator()
    s = samples(G)
    assert s.fixed_noise.shape == (6, 3)
    out = s.generate(s.fixed_noise)
    assert out.shape == (6, 1, 2, 2) and out.dtype == np.float32
    assert G.training and np.array_equal(G[1].running_mean, np.zeros(4))   # eval: no update
    assert np.array_equal(s.sample(5), s.sample(5)) and not np.array_equal(s.sample(5), s.sample(5, 9))


def test_export_writes_nchw_float32(tmp_path):
    s = samples(generator(), folder=OutputFolder(str(tmp_path)))
    path = s.export(7)
    assert path == str(tmp_path / "samples.npy")
    a = np.load(path)
    assert a.shape == (7, 1, 2, 2) and a.dtype == np.float32


def test_the_average_samples_and_its_state_round_trips():
    G = generator()
    ema = GeneratorAverage(G, 0.5)
    s = samples(G, ema=ema)
    assert s.generator is ema.model
    G[0].weight.data += 1.0
    ema.update(G)
    arrays, meta = s.state()
    assert meta["ema_updates"] == 1 and any(k.startswith("G_ema/") for k in arrays)
    other = samples(generator(), ema=GeneratorAverage(generator(), 0.5))
    other.load_state(arrays, meta)
    assert other.ema.updates == 1 and np.array_equal(other.fixed_noise, s.fixed_noise)
    assert np.array_equal(other.generate(s.fixed_noise), s.generate(s.fixed_noise))
