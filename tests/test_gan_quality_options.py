"""Issue 14's training options in the trainer and the examples: the average of G's weights
(--ema), the hinge loss (--loss hinge) and a spectrally normalised D (--spectral-norm) —
their math, that sampling uses the average, and bit-exact resume with all of them on."""
import numpy as np
import pytest

from minigan import gan, nn
from minigan.files.checkpoint import generator_weights
from minigan.gan.ema import GeneratorAverage
from minigan.gan.models import with_spectral_norm
from test_examples import run
from test_gan_trainer import assert_same_state, make_trainer


def test_the_average_follows_its_formula_with_warm_up():
    G = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    G[0].weight.data[...] = 0.0
    avg = GeneratorAverage(G, decay=0.9)
    expected = np.zeros((2, 2), np.float32)
    for t, value in enumerate([1.0, 2.0, 3.0, 4.0, 5.0]):
        G[0].weight.data[...] = value
        G[1].running_mean[...] = value                 # buffers: copied, not averaged
        beta = min(0.9, (1 + t) / (10 + t))
        expected = beta * expected + (1 - beta) * value
        avg.update(G)
        np.testing.assert_allclose(avg.model[0].weight.data, expected, rtol=1e-6)
        np.testing.assert_array_equal(avg.model[1].running_mean, [value, value])
    assert avg.updates == 5 and avg.model[0].weight is not G[0].weight
    with pytest.raises(ValueError, match=r"decay must be in \(0, 1\)"):
        GeneratorAverage(G, 1.0)


def test_standing_statistics_are_the_mean_of_the_averages_own_batch_statistics():
    G = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=0.3), nn.ReLU())
    avg = GeneratorAverage(G, decay=0.9)
    avg.model.eval()
    weights = {k: v.copy() for k, v in avg.model.state_dict().items()
               if "running" not in k and "num_batches" not in k}
    batches = [np.random.default_rng(i).standard_normal((5, 3)).astype(np.float32) for i in range(3)]
    avg.recompute_statistics(batches)
    h = [b @ avg.model[0].weight.data.T + avg.model[0].bias.data for b in batches]
    bn = avg.model[1]
    np.testing.assert_allclose(bn.running_mean, np.mean([x.mean(0) for x in h], axis=0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var, np.mean([x.var(0, ddof=1) for x in h], axis=0), rtol=1e-5)
    assert bn.momentum == 0.3 and not avg.model.training and avg.statistics_at == 0
    for k, v in weights.items():                       # only the statistics changed
        np.testing.assert_array_equal(avg.model.state_dict()[k], v, err_msg=k)


def test_the_average_samples_with_standing_statistics_and_resumes_bit_exactly(tmp_path):
    options = dict(ema=0.95, ema_statistics=200, sample_every=3)     # grids mid-epoch too
    make_trainer(tmp_path / "a", 14, **options).fit()
    make_trainer(tmp_path / "b", 5, **options).fit()
    resumed = make_trainer(tmp_path / "b", 14, **options)
    resumed.load_checkpoint()
    resumed.fit()
    assert_same_state(tmp_path / "a" / "checkpoint.npz", tmp_path / "b" / "checkpoint.npz")
    # the checkpoint's average holds the recomputed statistics, not G's
    arrays, _ = gan.load_checkpoint(tmp_path / "a" / "checkpoint.npz")
    assert resumed.ema.statistics_at == resumed.ema.updates == 14
    np.testing.assert_array_equal(arrays["G_ema/1.running_mean"], resumed.ema.model[1].running_mean)
    assert not np.allclose(arrays["G_ema/1.running_mean"], arrays["G/1.running_mean"])
    with pytest.raises(ValueError, match="ema_statistics must be >= 0"):
        gan.TrainConfig(ema=0.9, ema_statistics=-1)


def test_samples_come_from_the_average_and_checkpoints_keep_both(tmp_path):
    trainer = make_trainer(tmp_path, 6, ema=0.9)
    trainer.fit()
    z = trainer.fixed_noise[:4]
    averaged = trainer.generate(z)
    trainer.ema.model.eval()
    np.testing.assert_array_equal(averaged, trainer.ema.model(z).reshape(averaged.shape))
    trainer.G.eval()
    assert not np.allclose(averaged, trainer.G(z).reshape(averaged.shape))      # not G itself
    arrays, meta = gan.load_checkpoint(tmp_path / "checkpoint.npz")
    assert meta["ema_updates"] == 6 and any(k.startswith("G_ema/") for k in arrays)
    weights = generator_weights(arrays)                  # what minigan.eval and latent_walk load
    np.testing.assert_array_equal(weights["0.weight"], trainer.ema.model[0].weight.data)


def make_sn_trainer(out, max_steps, **over):
    """make_trainer's run with D's Conv2d and Linear spectrally normalised (in place: the
    optimizer keeps the same Parameters, now named weight_orig)."""
    trainer = make_trainer(out, max_steps, **over)
    with_spectral_norm(trainer.D)
    return trainer


@pytest.mark.parametrize("split", [5, 12])
def test_resume_is_bit_exact_with_the_average_hinge_and_spectral_norm(tmp_path, split):
    options = dict(ema=0.95, loss="hinge")
    make_sn_trainer(tmp_path / "a", 20, **options).fit()
    make_sn_trainer(tmp_path / "b", split, **options).fit()
    resumed = make_sn_trainer(tmp_path / "b", 20, **options)
    resumed.load_checkpoint()
    resumed.fit()
    assert_same_state(tmp_path / "a" / "checkpoint.npz", tmp_path / "b" / "checkpoint.npz")
    arrays, _ = gan.load_checkpoint(tmp_path / "a" / "checkpoint.npz")
    assert {"D/0.weight_u", "D/4.weight_v", "G_ema/0.weight"} <= set(arrays)


def test_a_checkpoint_without_the_average_is_refused_by_a_run_with_it(tmp_path):
    make_trainer(tmp_path, 3).fit()
    with pytest.raises(ValueError, match="no averaged generator"):
        make_trainer(tmp_path, 6, ema=0.9).load_checkpoint()


def test_the_hinge_step_trains_with_both_hinge_losses(tmp_path):
    trainer = make_trainer(tmp_path, 1, loss="hinge")
    trainer.perm = trainer.rng.permutation(trainer.n_data)
    stats = trainer.train_step(trainer._real_batch(0))
    assert np.isfinite(stats["loss_D"]) and stats["loss_D"] >= 0 and np.isfinite(stats["loss_G"])
    assert isinstance(trainer.loss_fn, nn.HingeLoss) and isinstance(trainer.loss_g, nn.GeneratorHingeLoss)


def test_flagship_with_every_option_trains_and_resumes_from_the_command_line(tmp_path, capsys):
    common = ["--batch-size", 8, "--no-download", "--quiet", "--seed", 1, "--ema", 0.99,
              "--loss", "hinge", "--spectral-norm"]
    assert run("mnist_dcgan", "--max-steps", 4, "--out", tmp_path / "a", *common) == 0
    assert run("mnist_dcgan", "--max-steps", 2, "--out", tmp_path / "b", *common) == 0
    capsys.readouterr()
    assert run("mnist_dcgan", "--resume", "--max-steps", 4, "--out", tmp_path / "b", "--quiet",
               "--no-spectral-norm") == 0
    assert "ignored: --spectral-norm" in capsys.readouterr().out     # said, not silently dropped
    assert_same_state(tmp_path / "a" / "checkpoint.npz", tmp_path / "b" / "checkpoint.npz")
    arrays, meta = gan.load_checkpoint(tmp_path / "a" / "checkpoint.npz")
    assert meta["config"]["train"]["loss"] == "hinge" and meta["config"]["train"]["ema"] == 0.99
    assert {"D/0.weight_orig", "D/0.weight_u", "D/0.weight_v", "D/7.weight_orig"} <= set(arrays)
    assert run("latent_walk", "--checkpoint", tmp_path / "a" / "checkpoint.npz", "--walks", 2,
               "--steps", 2, "--quiet") == 0
