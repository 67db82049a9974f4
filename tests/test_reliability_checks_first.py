"""Issue 26, "every check before the first write, everywhere": each command line refuses a bad
option or file with one line naming it and exit code 2 before it writes anything (or trains), and
what a user saved stays as it was. One test per root cause."""
import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

from minigan import gan
from minigan.apps.failures import note_options, one_line
from minigan.data.julia import julia_pixels
from test_examples import example, run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def digest(folder):
    """name -> sha256 of every file under ``folder`` (to prove nothing changed)."""
    found = {}
    for root, _, names in os.walk(folder):
        for n in names:
            with open(os.path.join(root, n), "rb") as f:
                found[os.path.relpath(os.path.join(root, n), folder)] = hashlib.sha256(f.read()).hexdigest()
    return found


def refused(capsys, name, *argv):
    """Run example ``name``; assert exit code 2 and one line on stderr; return that line."""
    capsys.readouterr()
    try:
        code = run(name, *argv)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


JULIA = ["--n-julia", 32, "--image-size", 16, "--batch-size", 8, "--width", 8, "--max-steps", 1,
         "--quiet"]


def test_image_folder_without_images_keeps_the_old_runs_images_until_every_check_passed(tmp_path,
                                                                                       capsys):
    out = tmp_path / "run"
    assert run("image_folder_dcgan", *JULIA, "--out", out) == 0
    pngs = out / "julia_pngs"
    loaded = gan.load_image_folder(str(pngs), size=16, grayscale=True)
    assert np.array_equal(loaded[:, 0], julia_pixels(n=32, size=16, seed=0))   # what it trained on
    before = digest(out)
    line = refused(capsys, "image_folder_dcgan", *JULIA, "--seed", 5, "--width", 10 ** 5, "--out", out)
    assert "the models do not fit in memory" in line
    assert digest(out) == before                               # no image re-rendered
    (pngs / "mine.txt").write_text("a user's note")
    line = refused(capsys, "image_folder_dcgan", *JULIA, "--out", out)
    assert line.endswith(f"{pngs} holds files this example did not write (mine.txt); move them, "
                         f"or pass --images {pngs}")
    assert (pngs / "mine.txt").read_text() == "a user's note"


def test_dcgan_from_scratch_checks_its_out_before_training(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("keep me")
    line = refused(capsys, "dcgan_from_scratch", "--max-steps", 2, "--out", blocker)
    assert line.endswith(f": error: --out {blocker}: exists and is not a folder")
    assert blocker.read_text() == "keep me"
    line = refused(capsys, "dcgan_from_scratch", "--resume", "--out", tmp_path / "empty")
    assert line.endswith(f"no checkpoint file at {tmp_path / 'empty' / 'checkpoint.npz'}")
    assert not (tmp_path / "empty").exists()


@pytest.mark.parametrize("name", ["mnist_dcgan", "dcgan_from_scratch"])
def test_a_dangling_symlink_out_is_named(tmp_path, capsys, name):
    link = tmp_path / "out"
    os.symlink(tmp_path / "nowhere", link)
    line = refused(capsys, name, "--max-steps", 1, "--no-download" if name == "mnist_dcgan" else "--seed",
                   *([] if name == "mnist_dcgan" else [0]), "--out", link)
    assert line.endswith(f"--out {link}: is a symbolic link to {tmp_path / 'nowhere'}, which does not "
                         f"exist (or loops); create its target or remove the link")
    assert os.readlink(link) == str(tmp_path / "nowhere") and not (tmp_path / "nowhere").exists()


def test_log_every_longer_than_the_run_is_refused(tmp_path, capsys):
    line = refused(capsys, "one_parameter_gan", "--log-every", 1000, "--max-steps", 20, "--out",
                   tmp_path / "o")
    assert line.endswith(": error: --log-every 1000 is larger than the run's 20 steps: no metrics "
                         "row would be written (use at most 20)")
    assert not (tmp_path / "o").exists()


def test_a_gif_frame_longer_than_a_gif_can_hold_is_refused(tmp_path, capsys):
    line = refused(capsys, "latent_walk", "--frame-ms", 700000, "--checkpoint", tmp_path / "c.npz")
    assert "argument --frame-ms: must be 10..655350 (a GIF frame's delay), got 700000" in line
    with pytest.raises(ValueError, match=r"save_gif: duration_ms must be 0..655350 .*got 10000000"):
        gan.save_gif([np.zeros((2, 2), np.uint8)], tmp_path / "a.gif", duration_ms=10 ** 7)
    assert not (tmp_path / "a.gif").exists()


def _eval(*argv):
    p = subprocess.run([sys.executable, "-m", "minigan.eval"] + [str(a) for a in argv],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    return p.returncode, p.stderr.strip().splitlines()


@pytest.mark.parametrize("content,why", [
    (b"hello", "not an .npz archive"),
    (b"PK\x03\x04garbage", "File is not a zip file"),
    (None, "not an .npz archive")])                             # a .npy array
def test_a_bad_classifier_file_is_one_line_and_never_replaced(tmp_path, content, why):
    samples, bad = tmp_path / "s.npy", tmp_path / "weights.npz"
    np.save(samples, np.zeros((4, 28, 28), np.float32))
    if content is None:
        with open(bad, "wb") as f:
            np.save(f, np.zeros(3))
    else:
        bad.write_bytes(content)
    before = bad.read_bytes()
    code, lines = _eval(samples, "--classifier", bad)
    assert code == 2 and lines == [f"python -m minigan.eval: error: {bad}: not classifier weights (an "
                                   f".npz written by python -m minigan.eval --retrain): {why}"]
    code, lines = _eval(samples, "--classifier", bad, "--retrain")
    assert code == 2 and len(lines) == 1 and lines[0].endswith("--retrain would replace it: choose "
                                                               "another path")
    assert bad.read_bytes() == before


@pytest.mark.parametrize("name,advice", [
    ("mnist_dcgan", "(lower --batch-size or --z-dim)"),
    ("image_folder_dcgan", "(lower --batch-size, --z-dim or --width)"),
    ("one_parameter_gan", "(lower --batch-size)")])
def test_the_out_of_memory_line_advises_only_options_the_command_has(name, advice):
    example(name).build_parser().parse_args([])
    assert one_line(MemoryError("Unable to allocate 9 GiB")) == f"out of memory: Unable to allocate 9 GiB {advice}"
    note_options(["--n", "--help"])
    assert one_line(MemoryError()).endswith("(lower --n)")
    note_options([])
    assert one_line(MemoryError()).endswith("(close other programs or use a machine with more memory)")


@pytest.mark.parametrize("argv,says", [
    (["--processes", "0"], "argument --processes: must be a positive integer, got 0"),
    (["--processes", "3"], "--processes 3: the global batch of 64 (--batch) cannot be split evenly over 3"),
    (["--batch", "-1"], "argument --batch: must be a positive integer, got -1"),
    (["--steps", "0"], "argument --steps: must be a positive integer, got 0")])
def test_benchmark_options_are_checked_before_a_result_is_written(argv, says):
    results = os.path.join(ROOT, "benchmarks", "results")
    before = digest(results)
    p = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "bench_data_parallel.py")] + argv,
                       capture_output=True, text=True, timeout=120)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and says in lines[-1], p.stderr
    assert digest(results) == before


def _npy_with_header(path, shape, descr="<f4", payload=b"\0" * 64):
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": descr, "fortran_order": False, "shape": shape})
        f.write(payload)


@pytest.mark.parametrize("make,says", [
    (lambda p: _npy_with_header(p, (10 ** 8, 28, 28)),                  # 313 GB declared, 64 B held
     "its header declares (100000000, 28, 28) float32 (313,600,000,000 bytes of data), the file holds 64"),
    (lambda p: p.write_text("hello"), "not a .npy file (expected samples saved by --export-samples or np.save)"),
    (lambda p: np.save(p, np.zeros((2, 3, 32, 32), np.float32)),
     "expected samples of shape (N, 28, 28) or (N, 1, 28, 28), got (2, 3, 32, 32)"),
    (lambda p: np.save(p, np.array([{}, {}]), allow_pickle=True), "expected numbers, got dtype object")])
def test_eval_reads_a_samples_header_before_its_data(tmp_path, make, says):
    path = tmp_path / "samples.npy"
    make(path)
    code, lines = _eval(path)
    assert code == 2 and lines == [f"python -m minigan.eval: error: {path}: {says}"]


def test_image_folder_out_inside_a_linked_sub_folder_is_refused(tmp_path, capsys):
    images, elsewhere = tmp_path / "images", tmp_path / "elsewhere"
    images.mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, images / "more")                     # searched: a linked sub-folder
    line = refused(capsys, "image_folder_dcgan", "--images", images, "--out", elsewhere / "run")
    assert line.endswith(f"--out {elsewhere / 'run'} is inside --images {images}: the run's own "
                         f"images would become training data; choose an --out outside it")
    assert os.listdir(elsewhere) == []


def test_image_folder_checks_that_its_julia_images_fit_before_rendering(tmp_path, capsys):
    capsys.readouterr()
    assert run("image_folder_dcgan", "--n-julia", 10 ** 10, "--out", tmp_path / "o") == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert ": error: --n-julia/--image-size: 10,000,000,000 images of 64x64 (iteration counts, then " \
           "pixels) would need" in line
    assert not (tmp_path / "o").exists()
