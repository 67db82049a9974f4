"""minigan.eval end to end on real digits: a small classifier trained here in a few seconds
(never the per-user cache) must score real held-out digits near the ideal and noise or a
one-digit set badly; plus the cache file, the command line and the trainer hook."""
import json
import os

import numpy as np
import pytest

import minigan as mg
from minigan.eval import Evaluator, classifier as C, train_classifier as T
from minigan.eval.__main__ import main as eval_main
from minigan.eval.hook import EVAL_PNG, EpochMetrics, mnist_epoch_metrics


@pytest.fixture(scope="module")
def digits():
    from minigan.data import load_mnist_5k
    return load_mnist_5k("train") + load_mnist_5k("test")      # shipped with minigan


@pytest.fixture(scope="module")
def tiny(digits):
    """A classifier trained for 1 epoch on the 4,500 offline training digits (~1.5 s; 92%)."""
    xtr, ytr, _, _ = digits
    model = T.train(xtr, ytr, epochs=1, lr=3e-3, batch_size=32, seed=0, log=None)
    mu, sigma = T.reference_statistics(model, xtr)
    return Evaluator(model, mu, sigma, meta={"real_fd": 1.0, "real_fd_n": 500})


def test_tiny_classifier_accuracy(tiny, digits):
    _, _, xte, yte = digits
    assert T.accuracy(tiny.classifier, xte, yte) > 0.88


def test_real_held_out_digits_score_near_ideal(tiny, digits):
    _, _, xte, yte = digits
    real = tiny.score(xte)
    noise = tiny.score(np.random.default_rng(0).uniform(-1, 1, (500, 1, 28, 28)).astype(np.float32))
    ones = tiny.score(xte[yte == 1])
    assert real.coverage == 10 and real.n == 500
    assert real.kl_uniform < 0.05
    assert real.inception_score > 5            # ~7 for this 2-epoch classifier, ~9.5 cached
    assert real.frechet < 0.05 * min(noise.frechet, ones.frechet)
    for bad in (noise, ones):
        assert bad.coverage <= 2
        assert bad.kl_uniform > 1.5            # log 10 = 2.30 when all in one class
        assert bad.inception_score < 2
    assert ones.coverage == 1


def test_half_the_classes(tiny, digits):
    _, _, xte, yte = digits
    half = tiny.score(xte[yte < 5])
    assert half.coverage == 5
    assert 0.4 < half.kl_uniform < 0.8           # log 2 = 0.69 with a perfect classifier
    assert half.frechet > 3 * tiny.score(xte).frechet


def test_value_ranges_and_batching_agree(tiny, digits):
    x = digits[2][:120].astype(np.float32) / 255
    a = tiny.score(x, value_range="unit")
    b = tiny.score(x[:, None] * 2 - 1, value_range="tanh", batch_size=50)
    np.testing.assert_array_equal(a.histogram, b.histogram)
    assert a.frechet == pytest.approx(b.frechet, rel=1e-4)
    assert a.inception_score == pytest.approx(b.inception_score, rel=1e-5)


def test_classifier_save_read_round_trip(tiny, digits, tmp_path):
    path = str(tmp_path / "c" / "mnist_cnn.npz")
    C.save_classifier(tiny.classifier, path, ref_mu=tiny.ref_mu, ref_sigma=tiny.ref_sigma,
                      test_accuracy=0.9, data="offline-5k")
    assert os.listdir(tmp_path / "c") == ["mnist_cnn.npz"]          # no temp file left
    model, meta = C.read_classifier(path)
    assert meta["test_accuracy"] == 0.9 and meta["data"] == "offline-5k"
    x = digits[2][:20]
    np.testing.assert_array_equal(model.predict(x)[0], tiny.classifier.predict(x)[0])
    np.testing.assert_array_equal(meta["ref_sigma"], tiny.ref_sigma)


def test_cache_path_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "cache"))
    assert C.default_classifier_path() == str(tmp_path / "cache" / "classifier" / "mnist_cnn.npz")
    monkeypatch.delenv("MINIGAN_CACHE")
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "data"))
    assert C.default_classifier_path() == str(tmp_path / "data" / "classifier" / "mnist_cnn.npz")


def test_the_standard_network_ships_with_minigan(digits):
    """Evaluator.load() needs no training: it reads the network shipped in the package, whose
    checksum is recorded, and which classifies the 500 held-out real digits at >= 97%."""
    assert C.file_sha256(C.SHIPPED_CLASSIFIER) == C.SHIPPED_SHA256
    ev = Evaluator.load(verbose=False)
    assert ev.meta["standard"] and ev.meta["sha256"] == C.SHIPPED_SHA256
    assert "standard network shipped with minigan" in ev.describe()
    xte, yte = digits[2], digits[3]
    assert T.accuracy(ev.classifier, xte, yte) >= 0.97
    assert ev.meta["test_accuracy"] >= 0.97 and ev.meta["data"] == "offline-5k"
    with open(os.path.join(os.path.dirname(C.SHIPPED_CLASSIFIER), "CLASSIFIER.md")) as f:
        assert C.SHIPPED_SHA256 in f.read()                  # the recipe names these weights


def test_a_named_classifier_file_is_only_read(monkeypatch, tmp_path, tiny):
    monkeypatch.setattr(T, "train_and_cache", lambda **kw: pytest.fail("trained a classifier"))
    missing = tmp_path / "typo.npz"
    with pytest.raises(FileNotFoundError, match="no classifier weights at"):
        C.load_classifier(str(missing))
    assert not missing.exists()                            # never created
    path = str(tmp_path / "mnist_cnn.npz")
    C.save_classifier(tiny.classifier, path, ref_mu=tiny.ref_mu, ref_sigma=tiny.ref_sigma)
    before = C.file_sha256(path)
    model, meta = C.load_classifier(path)
    assert not meta["standard"] and meta["path"] == path and C.file_sha256(path) == before
    assert "NON-STANDARD network" in C.describe_classifier(meta)
    with np.load(path) as z:                                          # another architecture
        arrays = dict(z)
    arrays["meta/architecture"] = np.asarray("lenet-v0")
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="architecture 'lenet-v0'"):
        C.load_classifier(path)


def test_a_damaged_shipped_network_is_an_error(monkeypatch, tmp_path):
    bad = tmp_path / "mnist_cnn.npz"
    bad.write_bytes(b"garbage")
    monkeypatch.setattr(C, "SHIPPED_CLASSIFIER", str(bad))
    with pytest.raises(FileNotFoundError, match="missing or damaged"):
        C.load_classifier()


def test_retraining_is_explicit_and_non_standard(monkeypatch, tmp_path):
    import shutil
    from minigan.eval import evaluator
    calls = []
    monkeypatch.setattr(evaluator, "train_and_cache",
                        lambda **kw: calls.append(kw) or C.read_classifier(C.SHIPPED_CLASSIFIER))
    path = str(tmp_path / "mine.npz")
    shutil.copy(C.SHIPPED_CLASSIFIER, path)          # what the stand-in "trained"
    ev = Evaluator.load(path, retrain=True, verbose=False, epochs=1)
    assert calls and calls[0]["path"] == path and calls[0]["epochs"] == 1
    assert ev.meta["path"] == path


def _small_digits(digits):
    """load_digits stand-in: 600 training and 100 test digits (never downloads)."""
    xtr, ytr, xte, yte = digits
    pick = np.random.default_rng(0).permutation(len(xtr))[:600]
    return lambda data_dir=None: (xtr[pick], ytr[pick], xte[::5], yte[::5], "offline-5k",
                                  "600 offline test digits")


def test_train_and_cache_then_load_without_training(monkeypatch, tmp_path, digits, capsys):
    monkeypatch.setattr(T, "load_digits", _small_digits(digits))
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path))
    assert T.main(["--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "held-out accuracy:" in out and "Fréchet distance" in out
    path = C.default_classifier_path()
    assert os.path.isfile(path)
    monkeypatch.setattr(T, "train_and_cache", lambda **kw: pytest.fail("retrained a cached classifier"))
    model, meta = C.load_classifier(path)
    assert not meta["standard"]
    assert meta["train_count"] == 600 and meta["epochs"] == 1
    assert 0 < meta["test_accuracy"] <= 1 and meta["real_fd"] > 0 and meta["real_fd_n"] == 100
    assert meta["ref_mu"].shape == (C.FEATURE_DIM,)


def test_command_line_scores_a_samples_file(tmp_path, tiny, digits, capsys):
    cls_path = str(tmp_path / "cnn.npz")
    C.save_classifier(tiny.classifier, cls_path, ref_mu=tiny.ref_mu, ref_sigma=tiny.ref_sigma,
                      test_accuracy=0.93, data="offline-5k", real_fd=1.5, real_fd_n=500,
                      real_inception=7.0)
    samples = tmp_path / "samples.npy"
    pick = np.random.default_rng(1).permutation(500)[:200]           # the split is class-sorted
    np.save(samples, digits[2][pick, None].astype(np.float32) / 127.5 - 1)
    assert eval_main([str(samples), "--classifier", cls_path]) == 0
    out = capsys.readouterr().out
    assert "classes covered 10/10" in out and "real held-out digits (500)" in out
    assert "NON-STANDARD network" in out
    assert eval_main([str(samples), "--classifier", cls_path, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["coverage"] == 10 and doc["n"] == 200 and doc["classifier_accuracy"] == 0.93
    assert doc["classifier_standard"] is False
    # the standard network: the same figures on every machine
    assert eval_main([str(samples), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["classifier_standard"] is True and doc["classifier_sha256"] == C.SHIPPED_SHA256
    assert doc["coverage"] == 10 and doc["classifier_accuracy"] >= 0.97
    assert eval_main([str(samples), "--classifier", str(tmp_path / "typo.npz")]) == 2
    assert "no classifier weights at" in capsys.readouterr().err
    assert not (tmp_path / "typo.npz").exists()
    # declared [0, 1] but the file is in [-1, 1]: a one-line error, exit code 2
    assert eval_main([str(samples), "--classifier", cls_path, "--value-range", "unit"]) == 2
    assert "outside the declared value_range 'unit'" in capsys.readouterr().err
    assert eval_main([str(tmp_path / "nope.npz"), "--classifier", cls_path]) == 2
    assert "no such file" in capsys.readouterr().err


def test_command_line_scores_a_checkpoint(tmp_path, tiny, capsys):
    gan = pytest.importorskip("minigan.gan", reason="the GAN toolkit is not installed")
    cls_path = str(tmp_path / "cnn.npz")
    C.save_classifier(tiny.classifier, cls_path, ref_mu=tiny.ref_mu, ref_sigma=tiny.ref_sigma)
    mg.seed(0)
    G = gan.build_model({"builder": "dcgan28_generator", "kwargs": {"z_dim": 8}})
    config = {"generator": {"builder": "dcgan28_generator", "kwargs": {"z_dim": 8}},
              "train": {"z_dim": 8, "noise": "normal"}, "image_shape": [1, 28, 28],
              "value_range": [-1.0, 1.0]}
    arrays = {f"G/{k}": v for k, v in G.state_dict().items()}
    ckpt = gan.save_checkpoint(str(tmp_path / "checkpoint.npz"), arrays,
                               {"config": config, "step": 3, "steps_per_epoch": 3})
    assert eval_main([ckpt, "--classifier", cls_path, "--n", "40", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n"] == 40 and sum(doc[f"hist_{k}"] for k in range(10)) == 40
    assert "dcgan28_generator" in doc["source"]
    np.savez(tmp_path / "x.npz", a=np.zeros(3))                       # not a checkpoint
    assert eval_main([str(tmp_path / "x.npz"), "--classifier", cls_path]) == 2
    assert "not a minigan checkpoint" in capsys.readouterr().err


class _FakeTrainer:
    """What EpochMetrics uses of GANTrainer."""

    def __init__(self, images, out_dir):
        self.images, self.out_dir = images, out_dir
        self.image_shape, self.value_range = (1, 28, 28), (-1.0, 1.0)
        self.history, self.step, self.steps_per_epoch, self.run_config = [], 10, 5, {"title": "t"}

    def sample(self, n):
        return self.images[:n]


def test_epoch_hook_returns_metrics_and_plots(tmp_path, tiny, digits):
    images = digits[2][:, None].astype(np.float32) / 127.5 - 1
    images = images[np.random.default_rng(2).permutation(len(images))]
    trainer = _FakeTrainer(images, str(tmp_path))
    hook = EpochMetrics(tiny, n=300)
    row = hook(trainer)
    assert row["classes"] == 10 and len(row["class_hist"].split("/")) == 10
    assert set(row) == {"classes", "kl_uniform", "confidence", "fd", "inception", "class_hist",
                        "eval_s"}
    assert os.path.getsize(tmp_path / EVAL_PNG) > 1000
    trainer.history.append(dict(row, kind="epoch", epoch=2))           # second epoch: a curve
    trainer.step = 15
    hook(trainer)



def test_epoch_hook_gives_up_politely(tmp_path, tiny, digits, monkeypatch):
    said = []
    trainer = _FakeTrainer(digits[2][:, None].astype(np.float32) / 127.5 - 1, str(tmp_path))
    trainer.image_shape = (3, 64, 64)
    hook = EpochMetrics(tiny, say=said.append)
    assert hook(trainer) == {} and hook(trainer) == {}
    assert len(said) == 1 and "28x28 grayscale" in said[0]
    # no classifier can be had (e.g. no data): printed once, training goes on
    def no_classifier(*a, **kw):
        raise FileNotFoundError("no MNIST")
    monkeypatch.setattr(Evaluator, "load", classmethod(no_classifier))
    said.clear()
    hook = EpochMetrics(say=said.append)
    trainer.image_shape = (1, 28, 28)
    assert hook(trainer) == {} and said == ["minigan.eval: no sample-quality metrics for this run (no MNIST)"]


def test_mnist_epoch_metrics_is_lazy_and_mnist_only(monkeypatch):
    monkeypatch.setattr(Evaluator, "load", classmethod(lambda *a, **kw: pytest.fail("loaded early")))
    assert mnist_epoch_metrics("fashion") == []
    (hook,) = mnist_epoch_metrics("mnist")
    assert hook.evaluator is None


def test_real_trainer_writes_metrics_csv_plot_and_epoch_line(tmp_path, tiny, digits):
    gan = pytest.importorskip("minigan.gan", reason="the GAN toolkit is not installed")
    import csv
    from minigan.data import scale_to_tanh_range
    mg.seed(0)
    G = gan.build_model({"builder": "dcgan28_generator", "kwargs": {"z_dim": 16}})
    D = gan.build_model({"builder": "dcgan28_discriminator", "kwargs": {}})
    lines = []
    trainer = gan.GANTrainer(
        G, D, gan.TrainConfig(z_dim=16, batch_size=32, epochs=2, n_fixed=16), data=digits[0][:96, None],
        transform=scale_to_tanh_range, out_dir=str(tmp_path), value_range=(-1.0, 1.0),
        epoch_metrics=[EpochMetrics(tiny, n=64)], say=lines.append, quiet=False, progress=False)
    trainer.fit()
    with open(tmp_path / "metrics.csv", newline="") as f:
        epochs = [r for r in csv.DictReader(f) if r["kind"] == "epoch"]
    assert len(epochs) == 2
    for r in epochs:
        assert 0 <= int(r["classes"]) <= 10 and float(r["fd"]) > 0 and float(r["eval_s"]) >= 0
        assert sum(int(c) for c in r["class_hist"].split("/")) == 64
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert len(epoch_lines) == 2 and all(" classes " in line and " fd " in line for line in epoch_lines)
    assert os.path.getsize(tmp_path / EVAL_PNG) > 1000
