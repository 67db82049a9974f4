"""GANTrainer: exact resume (mid-epoch, at an epoch end, after Ctrl-C), atomic checkpoints,
the NaN guard, metrics.csv and the per-epoch metrics hook."""
import csv
import os
import signal

import numpy as np
import pytest

import minigan as mg
from minigan import gan, nn
from minigan.data import load_mnist_5k, scale_to_tanh_range
from minigan.files import checkpoint as ckpt_mod

DIGITS = load_mnist_5k()[0][::50][:96, None]          # 96 real digits, all classes -> 12 steps/epoch


def small_gan():
    """A small G and D with every kind of state a checkpoint must carry: BatchNorm running
    statistics, a convolution, and Dropout (which draws from minigan's generator)."""
    G = nn.Sequential(nn.Linear(16, 64, bias=False), nn.BatchNorm1d(64), nn.LeakyReLU(0.2),
                      nn.Linear(64, 784), nn.Tanh(), nn.Reshape(1, 28, 28))
    D = nn.Sequential(nn.Conv2d(1, 4, 5, stride=2, padding=2), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                      nn.Flatten(), nn.Linear(4 * 14 * 14, 1))
    return nn.init.dcgan_init(G), nn.init.dcgan_init(D)


def make_trainer(out, max_steps, epoch_metrics=None, step_callbacks=None, **over):
    mg.seed(0)
    G, D = small_gan()
    kw = dict(z_dim=16, batch_size=8, epochs=10, max_steps=max_steps, real_label=(0.9, 1.1),
              fake_label=(0.0, 0.2), flip_prob=0.1, seed=3, n_fixed=16)   # ... and the trainer's
    kw.update(over)
    return gan.GANTrainer(G, D, gan.TrainConfig(**kw), data=DIGITS, transform=scale_to_tanh_range,
                          out_dir=str(out), quiet=True, progress=False, render="gray",
                          epoch_metrics=epoch_metrics, step_callbacks=step_callbacks,
                          run_config={"example": "test"})


def arrays_of(path):
    arrays, meta = gan.load_checkpoint(path)
    return arrays, meta


def assert_same_state(path_a, path_b):
    a, meta_a = arrays_of(path_a)
    b, meta_b = arrays_of(path_b)
    assert sorted(a) == sorted(b)
    differ = [k for k in a if not np.array_equal(a[k], b[k])]
    assert not differ, f"arrays differ: {differ}"
    assert meta_a["step"] == meta_b["step"]
    assert meta_a["rng"] == meta_b["rng"] and meta_a["mg_rng"] == meta_b["mg_rng"]
    assert meta_a["optimizers"] == meta_b["optimizers"]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """20 uninterrupted steps (an epoch end at 12, a mid-epoch stop at 20)."""
    out = tmp_path_factory.mktemp("straight")
    make_trainer(out, 20).fit()
    return out


@pytest.mark.parametrize("split", [7, 12])
def test_resume_is_bit_identical(straight, tmp_path, split):
    make_trainer(tmp_path, split).fit()
    trainer = make_trainer(tmp_path, 20)
    trainer.load_checkpoint()
    assert trainer.step == split
    trainer.fit()
    assert_same_state(straight / "checkpoint.npz", tmp_path / "checkpoint.npz")
    cols = ["kind", "epoch", "step", "loss_D", "loss_G", "D_x", "D_G_z", "diversity"]

    def rows(p):
        with open(p / "metrics.csv") as f:
            return [[r[c] for c in cols] for r in csv.DictReader(f)]
    assert rows(straight) == rows(tmp_path)


def test_resume_is_bit_identical_on_each_path(path, tmp_path):
    """The same on the plain path (the layer files' math) and the fast path (``path``)."""
    make_trainer(tmp_path / "straight", 14).fit()
    make_trainer(tmp_path / "split", 9).fit()
    trainer = make_trainer(tmp_path / "split", 14)
    trainer.load_checkpoint()
    assert trainer.step == 9
    trainer.fit()
    assert_same_state(tmp_path / "straight" / "checkpoint.npz", tmp_path / "split" / "checkpoint.npz")


def test_ctrl_c_saves_a_checkpoint_that_resumes_exactly(straight, tmp_path):
    def press_ctrl_c(trainer, row):
        if trainer.step == 9:
            signal.raise_signal(signal.SIGINT)      # the handler only sets a flag
    trainer = make_trainer(tmp_path, 20, step_callbacks=[press_ctrl_c])
    with pytest.raises(KeyboardInterrupt):
        trainer.fit()
    assert gan.read_meta(tmp_path / "checkpoint.npz")["step"] == 9
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # handler restored
    trainer = make_trainer(tmp_path, 20)
    trainer.load_checkpoint()
    trainer.fit()
    assert_same_state(straight / "checkpoint.npz", tmp_path / "checkpoint.npz")


def test_sigterm_is_handled_like_ctrl_c(straight, tmp_path):
    """kill, schedulers and container stops send SIGTERM: finish the step, save, say which."""
    previous = signal.getsignal(signal.SIGTERM)

    def send_sigterm(trainer, row):
        if trainer.step == 9:
            signal.raise_signal(signal.SIGTERM)
    trainer = make_trainer(tmp_path, 20, step_callbacks=[send_sigterm])
    with pytest.raises(gan.TrainingInterrupted) as info:
        trainer.fit()
    assert info.value.signum == signal.SIGTERM and isinstance(info.value, KeyboardInterrupt)
    assert gan.read_meta(tmp_path / "checkpoint.npz")["step"] == 9
    assert signal.getsignal(signal.SIGTERM) == previous                   # handler restored
    trainer = make_trainer(tmp_path, 20)
    trainer.load_checkpoint()
    trainer.fit()
    assert_same_state(straight / "checkpoint.npz", tmp_path / "checkpoint.npz")


def test_a_crash_between_checkpoints_loses_no_metrics_rows(straight, tmp_path):
    """With --checkpoint-every, metrics.csv is written with every checkpoint: after a crash
    (here an exception after step 7; the last checkpoint is step 6) and a resume, it holds
    every step exactly once, and the weights equal an uninterrupted run's."""
    def crash(trainer, row):
        if trainer.step == 7:
            raise RuntimeError("simulated crash")
    trainer = make_trainer(tmp_path, 20, step_callbacks=[crash], checkpoint_every=2)
    with pytest.raises(RuntimeError, match="simulated crash"):
        trainer.fit()
    assert gan.read_meta(tmp_path / "checkpoint.npz")["step"] == 6
    with open(tmp_path / "metrics.csv", newline="") as f:
        assert [int(r["step"]) for r in csv.DictReader(f) if r["kind"] == "step"] == list(range(1, 7))
    trainer = make_trainer(tmp_path, 20, checkpoint_every=2)
    trainer.load_checkpoint()
    trainer.fit()
    with open(tmp_path / "metrics.csv", newline="") as f:
        assert [int(r["step"]) for r in csv.DictReader(f) if r["kind"] == "step"] == list(range(1, 21))
    assert_same_state(straight / "checkpoint.npz", tmp_path / "checkpoint.npz")


def test_outputs_and_metrics_csv(straight):
    names = set(os.listdir(straight))
    assert {"checkpoint.npz", "metrics.csv", "losses.png", "progress.gif", "grid_latest.png",
            "grids"} <= names
    assert sorted(os.listdir(straight / "grids")) == [
        "step_0000000.png", "step_0000012_epoch_001.png", "step_0000020.png"]
    with open(straight / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:9] == ["kind", "epoch", "step", "time", "images_per_s", "loss_D",
                                 "loss_G", "D_x", "D_G_z"]
    steps = [r for r in rows if r["kind"] == "step"]
    epochs = [r for r in rows if r["kind"] == "epoch"]
    assert [int(r["step"]) for r in steps] == list(range(1, 21))
    assert len(epochs) == 1 and epochs[0]["step"] == "12" and float(epochs[0]["epoch_time"]) > 0
    for r in steps:
        assert 0 < float(r["D_x"]) < 1 and 0 < float(r["D_G_z"]) < 1
        assert float(r["images_per_s"]) > 0


def test_epoch_metrics_hook_adds_columns_and_leaves_training_alone(straight, tmp_path, capsys):
    def score(trainer):
        mg.backend.rng("cpu").random(10)           # a hook that draws random numbers ...
        trainer.rng.random(10)
        samples = trainer.sample(8)
        assert samples.shape == (8, 1, 28, 28)
        return {"my_score": float(samples.mean()), "step_seen": trainer.step}
    trainer = make_trainer(tmp_path, 20, epoch_metrics=[score])
    trainer.fit()
    assert_same_state(straight / "checkpoint.npz", tmp_path / "checkpoint.npz")   # ... changes nothing
    epoch_rows = [r for r in trainer.history if r["kind"] == "epoch"]
    assert epoch_rows[0]["step_seen"] == 12 and "my_score" in epoch_rows[0]
    with open(tmp_path / "metrics.csv") as f:
        header = f.readline().strip().split(",")
    assert header[-2:] == ["my_score", "step_seen"]
    assert "my_score" in capsys.readouterr().out


class NaNAfter(nn.BCEWithLogitsLoss):
    def __init__(self, calls):
        super().__init__()
        self.calls = calls

    def evaluate(self, input, target):                  # what the GAN steps call
        self.calls -= 1
        value = super().evaluate(input, target)
        return value * float("nan") if self.calls < 0 else value


def test_nan_guard_stops_and_saves_a_marked_checkpoint(tmp_path):
    trainer = make_trainer(tmp_path, 20)
    trainer.loss_fn = NaNAfter(3 * 13)                  # 3 loss calls per step: NaN in step 14
    with pytest.raises(gan.TrainingDiverged, match=r"loss_D became nan at step 14") as info:
        trainer.fit()
    assert info.value.checkpoint.endswith("checkpoint_nonfinite.npz")
    meta = gan.read_meta(info.value.checkpoint)
    assert meta["status"] == "nonfinite" and "loss_D = nan" in meta["note"]
    assert gan.read_meta(tmp_path / "checkpoint.npz")["step"] == 12     # the good one is kept
    with pytest.raises(ValueError, match="nonfinite"):
        make_trainer(tmp_path, 20).load_checkpoint(info.value.checkpoint)


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    trainer = make_trainer(tmp_path, 3)
    trainer.fit()
    path = tmp_path / "checkpoint.npz"
    before = path.read_bytes()

    def crash(f, arrays):
        f.write(b"PK\x03\x04 half a zip file")
        raise OSError("disk full")
    monkeypatch.setattr(ckpt_mod, "_write_npz", crash)
    trainer.step = 99
    with pytest.raises(OSError, match="disk full"):
        trainer.save_checkpoint()
    assert path.read_bytes() == before
    assert gan.read_meta(path)["step"] == 3
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def test_checkpoint_errors(tmp_path):
    with pytest.raises(gan.CheckpointError, match="no checkpoint"):
        gan.load_checkpoint(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(gan.CheckpointError, match="not a readable checkpoint"):
        gan.load_checkpoint(tmp_path / "junk.npz")
    np.savez(tmp_path / "plain.npz", a=np.zeros(2))
    with pytest.raises(gan.CheckpointError, match="not a minigan checkpoint"):
        gan.load_checkpoint(tmp_path / "plain.npz")


def test_resume_refuses_a_different_data_set(tmp_path):
    make_trainer(tmp_path, 2).fit()
    trainer = make_trainer(tmp_path, 4, batch_size=4)
    with pytest.raises(ValueError, match="cannot continue exactly"):
        trainer.load_checkpoint()


def test_real_sampler_and_export(tmp_path):
    mg.seed(0)
    cfg = gan.TrainConfig(z_dim=4, noise="uniform", batch_size=2, epochs=2, steps_per_epoch=5,
                          loss="mse", optimizer="sgd", lr_g=0.01, lr_d=0.01)
    trainer = gan.GANTrainer(gan.pattern_generator(), gan.pattern_discriminator(), cfg,
                             real_sampler=lambda rng, n: rng.random((n, 4)), out_dir=str(tmp_path),
                             image_shape=(1, 1, 4), value_range=(0, 1), render="none",
                             quiet=True, progress=False)
    summary = trainer.fit()
    assert summary["step"] == 10
    path = trainer.export_samples(7)
    s = np.load(path)
    assert s.shape == (7, 1, 1, 4) and s.dtype == np.float32 and 0 <= s.min() and s.max() <= 1
    assert not os.path.exists(tmp_path / "progress.gif")


def test_temp_files_of_an_interrupted_write_are_removed_on_the_next_start(tmp_path):
    """A kill during an atomic write leaves checkpoint.npz.<random>.tmp (10-30 MB each)."""
    stale = [tmp_path / "checkpoint.npz.k2j4_x9a.tmp", tmp_path / "metrics.csv.0abc123.tmp"]
    for p in stale:
        p.write_bytes(b"half a file")
    keep = tmp_path / "notes.tmp"
    keep.write_text("mine")
    make_trainer(tmp_path, 1).fit()
    assert not any(p.exists() for p in stale) and keep.read_text() == "mine"
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp") and n != "notes.tmp"]


def test_a_checkpoint_that_does_not_fit_changes_nothing(straight, tmp_path):
    """A checkpoint whose D does not match (or whose step is nonsense) is refused with one
    message naming the file, and the trainer is left as it was (G was overwritten before)."""
    arrays, meta = gan.load_checkpoint(straight / "checkpoint.npz")
    wrong_d = {k: v for k, v in arrays.items() if not k.startswith("D/")}
    wrong_d.update({k: np.zeros((3,) + v.shape[1:], v.dtype) if k.startswith("D/") and v.ndim else v
                    for k, v in arrays.items() if k.startswith("D/")})
    gan.save_checkpoint(tmp_path / "bad_d.npz", wrong_d, meta)
    gan.save_checkpoint(tmp_path / "bad_step.npz", arrays, dict(meta, step=-5))
    trainer = make_trainer(tmp_path, 20)
    before = {k: v.copy() for k, v in trainer.G.state_dict().items()}
    rng_before = trainer.rng.bit_generator.state
    for name, message in (("bad_d.npz", r"member 'D/0.weight' declares shape \(3, 1, 5, 5\), expected"),
                          ("bad_step.npz", r"its entry .step. is -5, expected an integer >= 0")):
        with pytest.raises(ValueError, match=rf"{name}: cannot resume .*{message}.*nothing was changed"):
            trainer.load_checkpoint(str(tmp_path / name))
        assert trainer.step == 0 and trainer.rng.bit_generator.state == rng_before
        for k, v in trainer.G.state_dict().items():
            np.testing.assert_array_equal(v, before[k])
    trainer.load_checkpoint(str(straight / "checkpoint.npz"))              # a good one still loads
    assert trainer.step == 20
