"""Issue 12, "tracebacks where one line is promised" and "wrong advice": every expected failure of
an example or of ``python -m minigan.eval`` is one line on stderr naming the option or file and
what to do, exit code 2 — and it happens before anything in the output folder changes."""
import errno
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from minigan import gan
from minigan.data import idx
from minigan.files import checkpoint as ckpt_mod
from test_examples import EXAMPLES, ROOT, run

TINY = ["--batch-size", 8, "--no-download", "--quiet"]


def failure(capsys, name, *argv):
    """Run an example in-process; it must fail with code 2 and one error line, the last on stderr."""
    try:
        code = run(name, *argv)
    except SystemExit as e:                       # argparse and parser.fail exit directly
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "Traceback" not in err, err          # (warnings may come before)
    assert err.strip().splitlines()[-1] == errors[0]
    return errors[0]


def snapshot(folder):
    """{relative path: bytes} of every file under ``folder``."""
    found = {}
    for root, _, names in os.walk(folder):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                found[os.path.relpath(p, folder)] = f.read()
    return found


@pytest.fixture(scope="module")
def old_run(tmp_path_factory):
    """A finished 2-step mnist_dcgan run: the folder a careless second command lands in."""
    out = tmp_path_factory.mktemp("old_run")
    assert run("mnist_dcgan", "--max-steps", 2, "--out", out, *TINY) == 0
    return out


# ----------------------------------------------------------------------------- bad data
def write_mnist(folder, images, labels):
    os.makedirs(folder, exist_ok=True)
    idx.write_idx(os.path.join(folder, "train-images-idx3-ubyte"), images)
    idx.write_idx(os.path.join(folder, "train-labels-idx1-ubyte"), labels)


def test_corrupt_truncated_or_mismatched_idx_files(tmp_path, capsys):
    images, labels = np.zeros((20, 28, 28), np.uint8), np.zeros(20, np.uint8)
    data = tmp_path / "data"
    write_mnist(data / "mnist", images, labels[:19])                   # one label short
    line = failure(capsys, "mnist_dcgan", "--data-dir", data, "--out", tmp_path / "o", *TINY)
    assert "train-labels-idx1-ubyte: expected 20 labels" in line and "delete or replace" in line
    write_mnist(data / "mnist", images, labels)
    path = data / "mnist" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])                           # truncated
    assert "train-images-idx3-ubyte" in failure(capsys, "mnist_dcgan", "--data-dir", data,
                                                "--out", tmp_path / "o", *TINY)
    path.write_bytes(b"\x08\x03\x00\x00 not an IDX file at all")        # corrupt
    assert "bad IDX magic number" in failure(capsys, "mnist_mlp_gan", "--data-dir", data,
                                             "--out", tmp_path / "o", "--no-download", "--quiet")
    assert not (tmp_path / "o").exists()                                # nothing was created


def test_a_batch_larger_than_the_data(tmp_path, capsys, julia_pngs):
    line = failure(capsys, "mnist_dcgan", "--out", tmp_path / "a", "--no-download", "--quiet",
                   "--batch-size", 100000)
    assert "--batch-size 100000 is larger than the 4,500 training images" in line
    assert "(--n-images)" in failure(capsys, "julia_gan", "--n-images", 5, "--out", tmp_path / "b")
    assert "(--n-julia)" in failure(capsys, "image_folder_dcgan", "--n-julia", 5, "--out", tmp_path / "c")
    few = tmp_path / "few"
    few.mkdir()
    for name in sorted(os.listdir(julia_pngs))[:5]:
        (few / name).write_bytes((julia_pngs / name).read_bytes())
    assert "larger than the 5 images" in failure(capsys, "image_folder_dcgan", "--images", few,
                                                 "--out", tmp_path / "d")
    assert "larger than the 4500 training images" in failure(
        capsys, "dcgan_from_scratch", "--batch-size", 5000, "--out", tmp_path / "e")
    assert not any((tmp_path / n).exists() for n in "abcde")


def test_sizes_that_cannot_fit_in_memory_are_refused_up_front(tmp_path, capsys, old_run):
    before = snapshot(old_run)
    line = failure(capsys, "mnist_dcgan", "--z-dim", 100000000, "--out", old_run, *TINY)
    assert "models" in line and "memory" in line and "--z-dim" in line
    line = failure(capsys, "mnist_dcgan", "--export-samples", 10 ** 12, "--max-steps", 1,
                   "--out", old_run, *TINY)
    assert line.startswith(os.path.basename(sys.argv[0]) + ": error: --export-samples: ")
    assert "GiB, more than this machine's" in line
    ckpt = old_run / "checkpoint.npz"
    assert "--walks/--points/--steps/--scale" in failure(capsys, "latent_walk", "--checkpoint", ckpt,
                                                         "--scale", 10 ** 6)
    assert "--export-samples" in failure(capsys, "latent_walk", "--checkpoint", ckpt,
                                         "--export-samples", 10 ** 13)
    assert snapshot(old_run) == before                        # trained nothing, wrote nothing


def test_latent_walk_out_that_is_a_file(tmp_path, capsys, old_run):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    line = failure(capsys, "latent_walk", "--checkpoint", old_run / "checkpoint.npz", "--out", target)
    assert "exists and is not a folder" in line and target.read_text() == "mine"


# ----------------------------------------------------------------------------- bad checkpoints
def rewrite_meta(path, meta_text):
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["__meta__"] = np.array(meta_text)
    np.savez(path, **arrays)


def test_checkpoints_that_cannot_be_resumed(tmp_path, capsys, old_run):
    good = gan.read_meta(old_run / "checkpoint.npz")
    cases = {
        "json": ("{not json", "is not valid JSON"),
        "step": (json.dumps(dict(good, step=-5)), "its entry 'step' is -5, expected an integer >= 0"),
        "types": (json.dumps(dict(good, elapsed="soon")), "its entry 'elapsed' is 'soon', expected a number"),
        "missing": (json.dumps({k: v for k, v in good.items() if k != "rng"}), "has no 'rng' entry"),
    }
    for name, (text, message) in cases.items():
        out = tmp_path / name
        out.mkdir()
        (out / "checkpoint.npz").write_bytes((old_run / "checkpoint.npz").read_bytes())
        rewrite_meta(out / "checkpoint.npz", text)
        before = snapshot(out)
        line = failure(capsys, "mnist_dcgan", "--resume", "--out", out, *TINY)
        assert "--resume" in line and message in line, line
        assert snapshot(out) == before


def test_a_checkpoint_of_a_script_is_not_resumed_by_an_example(tmp_path, capsys):
    """The README's GANTrainer snippet writes checkpoints with no example name (the examples
    used to fail with KeyError: 'data')."""
    from minigan.gan.models import dcgan28_discriminator, dcgan28_generator
    G, D = dcgan28_generator(), dcgan28_discriminator()
    data = np.zeros((16, 1, 28, 28), np.float32)
    trainer = gan.GANTrainer(G, D, gan.TrainConfig(batch_size=8, epochs=1, max_steps=1), data=data,
                             out_dir=str(tmp_path), quiet=True)
    trainer.fit()
    line = failure(capsys, "mnist_dcgan", "--resume", "--out", tmp_path, *TINY)
    assert "written by a GANTrainer in a script, not by an example" in line


def test_python_m_minigan_eval_on_unusable_files(tmp_path, old_run):
    arrays, meta = gan.load_checkpoint(old_run / "checkpoint.npz")
    gone = ("G/0.weight", "G_ema/0.weight")           # the flagship samples from G_ema (--ema)
    gan.save_checkpoint(tmp_path / "missing.npz", {k: v for k, v in arrays.items() if k not in gone},
                        meta)
    np.save(tmp_path / "nan.npy", np.full((20, 1, 28, 28), np.nan, np.float32))
    for name, message in (("missing.npz", "missing keys ['0.weight']"),
                          ("nan.npy", "20 of the 20 images hold NaN or inf values")):
        p = subprocess.run([sys.executable, "-m", "minigan.eval", str(tmp_path / name)],
                           capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert p.returncode == 2, p.stderr
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in p.stderr, p.stderr


# ----------------------------------------------------------------------------- OS errors
def test_an_output_folder_that_cannot_take_the_run(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert "exists and is not a folder" in failure(capsys, "pattern_1010_gan", "--out", tmp_path / "file")
    assert "is a file, not a folder" in failure(capsys, "pattern_1010_gan", "--out",
                                                tmp_path / "file" / "sub")
    blocked = tmp_path / "blocked"
    (blocked / "metrics.csv").mkdir(parents=True)
    line = failure(capsys, "pattern_1010_gan", "--out", blocked, "--max-steps", 3)
    assert "metrics.csv is in the way" in line
    assert os.listdir(blocked) == ["metrics.csv"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_output_folder_is_refused_before_training(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        line = failure(capsys, "pattern_1010_gan", "--out", ro, "--max-steps", 3)
        assert "cannot write into it" in line and "Permission denied" in line
    finally:
        ro.chmod(0o755)


def test_a_full_disk_while_training_is_one_line_and_keeps_the_checkpoint(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    assert run("pattern_1010_gan", "--max-steps", 20, "--steps-per-epoch", 10, "--out", out,
               "--quiet") == 0
    before = (out / "checkpoint.npz").read_bytes()

    def full(f, arrays):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(ckpt_mod, "_write_npz", full)
    line = failure(capsys, "pattern_1010_gan", "--resume", "--epochs", 3, "--out", out, "--quiet")
    assert f"{out / 'checkpoint.npz'}: No space left on device (the disk is full" in line
    assert "the checkpoint holds step 20: continue from there with --resume" in line
    assert (out / "checkpoint.npz").read_bytes() == before
    assert not [n for n in os.listdir(out) if n.endswith(".tmp")]


# ----------------------------------------------------------------------------- wrong advice
def test_fashion_without_data_lists_what_was_tried(tmp_path, capsys, monkeypatch):
    from minigan.data import mnist
    monkeypatch.setattr(mnist, "FASHION_SYSTEM_DIRS", [str(tmp_path / "system")])
    line = failure(capsys, "mnist_dcgan", "--dataset", "fashion", "--data-dir", tmp_path / "d",
                   "--out", tmp_path / "o", *TINY)
    assert f"(tried: {tmp_path / 'd' / 'fashion-mnist'}: missing" in line
    assert str(tmp_path / "system") in line and "apt install dataset-fashion-mnist" in line


def test_divergence_advice_names_this_examples_options(tmp_path, capsys):
    assert run("one_parameter_gan", "--lr", 1e30, "--max-steps", 50, "--out", tmp_path, "--quiet") == 3
    err = capsys.readouterr().err
    assert "Try lower learning rates (--lr)." in err and "--lr-g" not in err


def test_the_default_output_is_never_inside_the_image_folder(tmp_path, capsys, monkeypatch, julia_pngs):
    images = tmp_path / "pictures"
    images.mkdir()
    for name in sorted(os.listdir(julia_pngs))[:16]:
        (images / name).write_bytes((julia_pngs / name).read_bytes())
    monkeypatch.chdir(images)
    line = failure(capsys, "image_folder_dcgan", "--images", ".", "--out", "mine", "--max-steps", 1)
    assert "--out mine is inside --images ." in line
    assert run("image_folder_dcgan", "--images", ".", "--max-steps", 1, "--batch-size", 8,
               "--image-size", 16, "--width", 4, "--quiet") == 0
    assert sorted(os.listdir(images)) == sorted(os.listdir(julia_pngs))[:16]      # nothing added
    assert (tmp_path / "pictures-runs" / "image_folder_dcgan" / "checkpoint.npz").is_file()


# ----------------------------------------------------------------------------- Ctrl-C
def test_ctrl_c_before_training_is_one_line(tmp_path, capsys, monkeypatch):
    def pressed(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(gan, "GANTrainer", pressed)
    assert run("mnist_dcgan", "--out", tmp_path, *TINY) == 130
    assert capsys.readouterr().err.strip().endswith(": interrupted")


def sigint_caught(pid):
    """Whether process ``pid`` has a handler for SIGINT (its SigCgt mask in /proc)."""
    with open(f"/proc/{pid}/status") as f:
        caught = next(line.split()[1] for line in f if line.startswith("SigCgt:"))
    return bool(int(caught, 16) >> (signal.SIGINT - 1) & 1)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads signal masks from /proc")
def test_ctrl_c_while_the_libraries_load_prints_no_traceback(tmp_path):
    """Before the script's first line runs Python itself turns Ctrl-C into a traceback (nothing
    can change that); from there on there must be none: SIGINT is sent once the script has
    reset it (SigCgt clear), while the libraries load."""
    p = subprocess.Popen([sys.executable, os.path.join(EXAMPLES, "mnist_dcgan.py"), "--out",
                          str(tmp_path), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and p.poll() is None and sigint_caught(p.pid):
        time.sleep(0.002)                  # the interpreter starting: wait for the script's reset
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert "Traceback" not in err and p.returncode in (-signal.SIGINT, 130), (p.returncode, err)


def test_a_second_ctrl_c_names_the_step_the_checkpoint_holds(tmp_path, capsys, monkeypatch, old_run):
    out = tmp_path / "r"
    out.mkdir()
    for name in ("checkpoint.npz", "metrics.csv"):
        (out / name).write_bytes((old_run / name).read_bytes())

    def aborted(self):
        self.step = 7                      # trained on, then a second Ctrl-C: nothing saved
        raise KeyboardInterrupt
    monkeypatch.setattr(gan.GANTrainer, "fit", aborted)
    assert run("mnist_dcgan", "--resume", "--max-steps", 9, "--out", out, *TINY) == 130
    err = capsys.readouterr().err
    assert "interrupted at step 7; the checkpoint holds step 2: continue from there with --resume" in err
