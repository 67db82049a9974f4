"""Smoke runs of every example (in-process, a few steps each), resume through the command
line, and bad arguments: one line on stderr, exit code 2, no traceback."""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import minigan as mg
from minigan import gan, nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(name, *argv):
    return example(name).main([str(a) for a in argv])


def files(folder):
    return set(os.listdir(folder))


TRAINING_OUTPUTS = {"metrics.csv", "losses.png", "checkpoint.npz"}
IMAGE_OUTPUTS = TRAINING_OUTPUTS | {"grid_latest.png", "progress.gif", "grids"}


@pytest.fixture(scope="module")
def dcgan_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mnist_dcgan")
    code = run("mnist_dcgan", "--max-steps", 3, "--batch-size", 8, "--no-download", "--quiet",
               "--out", out, "--export-samples", 5)
    assert code == 0
    return out


def test_mnist_dcgan_smoke_and_export(dcgan_run):
    assert IMAGE_OUTPUTS | {"samples.npy"} <= files(dcgan_run)
    assert "step_0000003.png" in files(dcgan_run / "grids")
    s = np.load(dcgan_run / "samples.npy")
    assert s.shape == (5, 1, 28, 28) and s.dtype == np.float32 and -1 <= s.min() and s.max() <= 1
    meta = gan.read_meta(dcgan_run / "checkpoint.npz")
    assert meta["config"]["generator"]["builder"] == "dcgan28_generator"
    assert meta["config"]["data"]["count"] > 0


def test_mnist_dcgan_resume_from_the_command_line_is_exact(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    common = ["--batch-size", 8, "--no-download", "--quiet", "--seed", 1]
    assert run("mnist_dcgan", "--max-steps", 4, "--out", a, *common) == 0
    assert run("mnist_dcgan", "--max-steps", 2, "--out", b, *common) == 0
    assert run("mnist_dcgan", "--resume", "--max-steps", 4, "--out", b, "--lr-d", 1,
               "--no-download", "--quiet") == 0
    out = capsys.readouterr().out
    assert "resuming from" in out and "ignored: --lr-d" in out
    za, zb = np.load(a / "checkpoint.npz"), np.load(b / "checkpoint.npz")
    assert [k for k in za.files if k != "__meta__" and not np.array_equal(za[k], zb[k])] == []
    assert gan.read_meta(b / "checkpoint.npz")["step"] == 4


def test_dcgan_from_scratch_trains_writes_its_grid_and_resumes_exactly(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    common = ["--batch-size", 8, "--device", "cpu", "--seed", 3]
    assert run("dcgan_from_scratch", "--max-steps", 4, "--out", a, "--export-samples", 5, *common) == 0
    assert {"grid.png", "checkpoint.npz", "samples.npy"} <= files(a)
    assert np.load(a / "samples.npy").shape == (5, 1, 28, 28)
    assert run("dcgan_from_scratch", "--max-steps", 2, "--out", b, *common) == 0
    assert run("dcgan_from_scratch", "--max-steps", 4, "--out", b, "--resume", *common) == 0
    za, zb = np.load(a / "checkpoint.npz"), np.load(b / "checkpoint.npz")
    assert [k for k in za.files if k != "__meta__" and not np.array_equal(za[k], zb[k])] == []
    # the same architecture as the flagship's builders, and a loop written out, not a trainer
    G, D = example("dcgan_from_scratch").build_models()
    for mine, builder in ((G, "dcgan28_generator"), (D, "dcgan28_discriminator")):
        theirs = gan.build_model({"builder": builder, "kwargs": {}})
        assert {k: v.shape for k, v in mine.state_dict().items()} == \
            {k: v.shape for k, v in theirs.state_dict().items()}
    with open(os.path.join(EXAMPLES, "dcgan_from_scratch.py")) as f:
        source = f.read()
    assert len(source.splitlines()) <= 150 and "trainer" not in source.split('"""', 2)[2]


def test_mnist_mlp_gan_smoke(tmp_path):
    assert run("mnist_mlp_gan", "--max-steps", 20, "--batch-size", 4, "--no-download",
               "--out", tmp_path / "fix", "--export-samples", 3) == 0
    assert IMAGE_OUTPUTS <= files(tmp_path / "fix")
    s = np.load(tmp_path / "fix" / "samples.npy")
    assert s.shape == (3, 1, 28, 28) and 0 <= s.min() and s.max() <= 1
    assert run("mnist_mlp_gan", "--collapse", "--max-steps", 5, "--no-download", "--quiet",
               "--out", tmp_path / "collapse") == 0
    cfg = gan.read_meta(tmp_path / "collapse" / "checkpoint.npz")["config"]
    assert cfg["generator"]["kwargs"]["variant"] == "collapse" and cfg["train"]["optimizer"] == "sgd"


def test_julia_gan_smoke(tmp_path):
    assert run("julia_gan", "--max-steps", 2, "--n-images", 48, "--batch-size", 8, "--size", 16,
               "--quiet", "--out", tmp_path / "mlp", "--export-samples", 2) == 0
    assert IMAGE_OUTPUTS <= files(tmp_path / "mlp")
    assert np.load(tmp_path / "mlp" / "samples.npy").shape == (2, 1, 16, 16)
    assert run("julia_gan", "--conv", "--max-steps", 2, "--n-images", 48, "--batch-size", 8,
               "--size", 16, "--width", 4, "--quiet", "--out", tmp_path / "conv") == 0
    assert IMAGE_OUTPUTS <= files(tmp_path / "conv")


def test_pattern_and_one_parameter_gans(tmp_path):
    assert run("pattern_1010_gan", "--max-steps", 30, "--steps-per-epoch", 10, "--quiet",
               "--out", tmp_path / "p", "--export-samples", 4) == 0
    assert TRAINING_OUTPUTS | {"pattern.png", "samples.npy"} <= files(tmp_path / "p")
    assert np.load(tmp_path / "p" / "samples.npy").shape == (4, 1, 1, 4)
    # --max-steps belongs to one invocation: resuming without it trains to the end of --epochs
    assert run("pattern_1010_gan", "--resume", "--epochs", 4, "--quiet", "--out", tmp_path / "p") == 0
    assert gan.read_meta(tmp_path / "p" / "checkpoint.npz")["step"] == 40
    for update in ("direct", "through-d"):
        assert run("one_parameter_gan", "--max-steps", 20, "--generator", update, "--quiet",
                   "--out", tmp_path / update) == 0
        assert TRAINING_OUTPUTS | {"parameters.png"} <= files(tmp_path / update)


def test_image_folder_dcgan_on_julia_pngs(tmp_path, julia_pngs):
    out = tmp_path / "run"
    assert run("image_folder_dcgan", "--images", julia_pngs, "--max-steps", 2, "--batch-size", 8,
               "--width", 4, "--image-size", 16, "--quiet", "--out", out,
               "--export-samples", 2) == 0
    assert IMAGE_OUTPUTS | {"latent_walk.gif", "latent_walk.png"} <= files(out)
    assert np.load(out / "samples.npy").shape == (2, 3, 16, 16)
    assert run("image_folder_dcgan", "--images", julia_pngs, "--grayscale", "--max-steps", 1,
               "--batch-size", 8, "--width", 4, "--image-size", 16, "--quiet",
               "--out", tmp_path / "gray", "--export-samples", 1) == 0
    assert np.load(tmp_path / "gray" / "samples.npy").shape == (1, 1, 16, 16)


def test_latent_walk_from_a_checkpoint(dcgan_run, tmp_path):
    assert run("latent_walk", "--checkpoint", dcgan_run / "checkpoint.npz", "--out", tmp_path,
               "--walks", 4, "--points", 2, "--steps", 2, "--export-samples", 3, "--quiet") == 0
    assert {"latent_walk.gif", "latent_walk.png", "samples.npy"} <= files(tmp_path)
    assert np.load(tmp_path / "samples.npy").shape == (3, 1, 28, 28)


def test_nan_loss_stops_the_example_with_code_3(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(nn.BCEWithLogitsLoss, "_loss", lambda self, xp, x, t: x * np.nan)
    monkeypatch.setattr(nn.BCEWithLogitsLoss, "_mean", lambda self, xp, x, t: (x * np.nan).mean())  # both paths
    code = run("mnist_dcgan", "--max-steps", 3, "--batch-size", 8, "--no-download", "--quiet",
               "--out", tmp_path)
    assert code == 3
    err = capsys.readouterr().err
    assert "error: loss_D became nan at step 1" in err and "checkpoint_nonfinite.npz" in err
    assert gan.read_meta(tmp_path / "checkpoint_nonfinite.npz")["status"] == "nonfinite"


# ----------------------------------------------------------------------------- bad arguments
def usage_error(capsys, name, *argv):
    with pytest.raises(SystemExit) as info:
        run(name, *argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "error:" in err[0] and "Traceback" not in err[0]
    return err[0]


def test_bad_arguments_give_one_line_and_exit_code_2(tmp_path, capsys, julia_pngs):
    assert "invalid choice: 'tpu'" in usage_error(capsys, "mnist_dcgan", "--device", "tpu")
    assert "must be a positive integer, got -3" in usage_error(capsys, "mnist_dcgan", "--epochs", "-3")
    assert "--max-steps" in usage_error(capsys, "julia_gan", "--max-steps", "0")
    assert "no checkpoint" in usage_error(capsys, "pattern_1010_gan", "--resume", "--out", tmp_path / "e")
    assert "no such folder" in usage_error(capsys, "image_folder_dcgan", "--images", tmp_path / "nope")
    assert "4·2^k" in usage_error(capsys, "julia_gan", "--conv", "--size", "58")
    assert "no such file" in usage_error(capsys, "latent_walk", "--checkpoint", tmp_path / "x.npz")
    if not mg.cuda_available():
        assert "no CUDA GPU" in usage_error(capsys, "one_parameter_gan", "--device", "cuda")
    # values that passed the parser and crashed later (issue 12)
    assert "must be an integer >= 0, got -1" in usage_error(capsys, "mnist_dcgan", "--seed", "-1")
    assert "must be a number in [0, 1), got 1" in usage_error(capsys, "mnist_dcgan", "--beta1", "1")
    for pair in ("nan,nan", "0,inf"):
        assert "two finite numbers" in usage_error(capsys, "mnist_dcgan", "--real-label", pair)

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    from PIL import Image
    Image.new("RGB", (20, 20)).save(mixed / "a.png")
    Image.new("RGB", (30, 20)).save(mixed / "b.png")
    assert "different sizes" in usage_error(capsys, "image_folder_dcgan", "--images", mixed,
                                            "--out", tmp_path / "o1")
    (mixed / "b.png").unlink()
    (mixed / "readme.txt").write_text("not a picture")
    assert "readme.txt: not an image" in usage_error(capsys, "image_folder_dcgan", "--images", mixed,
                                                     "--out", tmp_path / "o2")


def test_bad_arguments_in_a_real_process_have_no_traceback(tmp_path):
    for argv in (["mnist_dcgan.py", "--epochs", "-1"],
                 ["image_folder_dcgan.py", "--images", str(tmp_path / "missing")]):
        p = subprocess.run([sys.executable, os.path.join(EXAMPLES, argv[0])] + argv[1:],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 2
        assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_a_signal_sets_the_exit_code(tmp_path, monkeypatch, capsys):
    """Ctrl-C exits 130 and SIGTERM 143 (128 + the signal), as shells expect."""
    import signal
    for signum, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        def stopped(self, signum=signum):
            raise gan.TrainingInterrupted(signum)
        monkeypatch.setattr(gan.GANTrainer, "fit", stopped)
        assert run("mnist_dcgan", "--max-steps", 2, "--batch-size", 8, "--no-download", "--quiet",
                   "--out", tmp_path / str(code)) == code
        assert "interrupted at step 0" in capsys.readouterr().err
