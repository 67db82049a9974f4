"""Checkpointer: the parts' state in one file, restored all or nothing."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn, optim
from minigan.distributed.data_parallel import SingleProcess
from minigan.files.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from minigan.gan.batches import Batches
from minigan.gan.checkpointer import Checkpointer, check_trainer_meta
from minigan.gan.config import TrainConfig
from minigan.gan.health import HealthMonitor
from minigan.gan.metrics_log import MetricsLog
from minigan.gan.outputs import CHECKPOINT, METRICS, OutputFolder
from minigan.gan.samples import Samples


def checkpointer(out, n_data=12, seed=0):
    mg.seed(seed)
    cfg = TrainConfig(z_dim=2, batch_size=4, seed=seed, n_fixed=3)
    G, D = nn.Sequential(nn.Linear(2, 3)), nn.Sequential(nn.Linear(3, 1))
    folder = OutputFolder(str(out))
    batches = Batches(cfg, data=np.zeros((n_data, 3), np.float32), parallel=SingleProcess())
    opt_g, opt_d = optim.Adam(G.parameters()), optim.Adam(D.parameters())
    return Checkpointer(folder, cfg, {"example": "test"}, models={"G": G, "D": D},
                        optimizers={"optG": opt_g, "optD": opt_d}, batches=batches,
                        samples=Samples(G, batches.noise, cfg), health=HealthMonitor(),
                        metrics=MetricsLog(folder, batches.steps_per_epoch))


def test_save_then_load_restores_every_part(tmp_path):
    a = checkpointer(tmp_path)
    a.batches.new_epoch()
    a.metrics.add_step({"loss_D": 1.0, "loss_G": 1.0, "D_x": 0.5, "D_G_z": 0.5}, 0.1, 4)
    a.metrics.history.append(a.metrics.step_row(1, 0.1))
    assert a.save(1, 0.1) == str(tmp_path / CHECKPOINT) and a.saved_at == 1
    assert (tmp_path / METRICS).is_file()                    # written before the checkpoint
    b = checkpointer(tmp_path, seed=1)
    meta = b.load()
    assert meta["step"] == 1 and meta["elapsed"] == 0.1 and b.saved_at == 1
    assert np.array_equal(b.models["G"][0].weight.data, a.models["G"][0].weight.data)
    assert np.array_equal(b.batches.perm, a.batches.perm)
    assert b.batches.rng.bit_generator.state == a.batches.rng.bit_generator.state
    assert [r["step"] for r in b.metrics.history] == [1]
    assert np.array_equal(b.samples.fixed_noise, a.samples.fixed_noise)


def test_a_checkpoint_that_does_not_fit_changes_nothing(tmp_path):
    checkpointer(tmp_path, n_data=16).save(2, 1.0)            # another data set
    b = checkpointer(tmp_path, seed=1)
    weight, rng = b.models["G"][0].weight.data.copy(), b.batches.rng.bit_generator.state
    with pytest.raises(ValueError, match="data set or batch size changed.*nothing was changed"):
        b.load()
    assert np.array_equal(b.models["G"][0].weight.data, weight)
    assert b.batches.rng.bit_generator.state == rng and b.saved_at is None


def test_a_nonfinite_checkpoint_is_not_resumed(tmp_path):
    path = str(tmp_path / "bad.npz")
    checkpointer(tmp_path).save(1, 0.0, path, status="nonfinite", note="loss_D = nan")
    assert load_checkpoint(path)[1]["note"] == "loss_D = nan"
    with pytest.raises(ValueError, match="marked 'nonfinite'"):
        checkpointer(tmp_path).load(path)


def test_the_meta_check_names_the_entry(tmp_path):
    arrays, meta = checkpointer(tmp_path).state(0, 0.0)
    check_trainer_meta(meta, "x.npz")
    for key, value, message in (("step", -1, "an integer >= 0"), ("rng", 3, "a JSON object"),
                                ("elapsed", float("inf"), "finite")):
        with pytest.raises(CheckpointError, match=f"x.npz: its entry '{key}'.*{message}"):
            check_trainer_meta(dict(meta, **{key: value}), "x.npz")
    foreign = str(tmp_path / "foreign.npz")
    save_checkpoint(foreign, {}, {"step": 1})
    with pytest.raises(ValueError, match="no 'steps_per_epoch' entry.*nothing was changed"):
        checkpointer(tmp_path).load(foreign)
