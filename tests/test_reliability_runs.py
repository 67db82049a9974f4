"""Issue 12, "lost or corrupted data": a run folder survives kill -9 at any moment, a metrics.csv
edited in a spreadsheet, and a new run that fails at once in an old run's folder."""
import csv
import errno
import os
import signal
import subprocess
import sys
import time
from contextlib import nullcontext

import numpy as np
import pytest
from PIL import Image

from minigan import gan
from test_examples import EXAMPLES, ROOT
from test_gan_trainer import make_trainer


def metrics_rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_metrics_csv_saved_by_a_spreadsheet_resumes_without_losing_rows(tmp_path):
    """A UTF-8 byte-order mark, CRLF line ends, an extra field and a duplicated row (what
    spreadsheets and hand edits leave) used to empty the old rows' kind column or crash."""
    make_trainer(tmp_path, 12).fit()
    path = tmp_path / "metrics.csv"
    original = metrics_rows(path)
    lines = path.read_text().splitlines()
    lines.insert(3, lines[2])                                  # a step twice
    lines[4] += ",an extra field"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    trainer = make_trainer(tmp_path, 16)
    trainer.load_checkpoint()
    trainer.fit()
    rows = metrics_rows(path)
    keys = [(r["kind"], int(r["step"])) for r in rows]
    assert len(keys) == len(set(keys))                         # every (kind, step) once
    assert [(r["kind"], r["step"], r["loss_D"]) for r in rows[:len(original)]] == \
        [(r["kind"], r["step"], r["loss_D"]) for r in original]
    assert [k for k in keys if k[0] == "step"] == [("step", s) for s in range(1, 17)]


def test_a_new_run_that_fails_at_once_leaves_the_old_runs_grids(tmp_path, monkeypatch):
    make_trainer(tmp_path, 12).fit()
    grids = sorted(os.listdir(tmp_path / "grids"))
    assert len(grids) >= 2

    def no_memory(self, real):
        raise MemoryError("Unable to allocate 9.1 TiB")
    monkeypatch.setattr(gan.GANTrainer, "train_step", no_memory)
    with pytest.raises(MemoryError):
        make_trainer(tmp_path, 12, seed=4).fit()
    assert sorted(os.listdir(tmp_path / "grids")) == grids
    monkeypatch.undo()
    make_trainer(tmp_path, 3, seed=4).fit()                      # once a step works, they go
    assert sorted(os.listdir(tmp_path / "grids")) == ["step_0000000.png", "step_0000003.png"]


# ----------------------------------------------------------------------------- kill -9
def killed_mid_write(path):
    """What kill -9 in the middle of ``atomic_write(path, ...)`` leaves: its temporary file, with
    the name atomic_write gives it (a child process writes half a file and dies)."""
    code = ("import os, sys\nfrom minigan.files.atomic import atomic_write\n"
            "atomic_write(sys.argv[1], lambda f: (f.write(b'half a PNG'), f.flush(), os._exit(9)))")
    before = set(os.listdir(path.parent)) if path.parent.is_dir() else set()
    assert subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT).returncode == 9
    left = [n for n in set(os.listdir(path.parent)) - before if n.startswith(path.name + ".")]
    assert len(left) == 1 and left[0].endswith(".tmp"), left
    return path.parent / left[0]


def test_a_resumed_run_removes_what_a_kill_during_an_image_write_left(tmp_path):
    """The kill -9 test once failed on grid_latest.png.<random>.tmp: a resumed run removed the
    temporary files of its checkpoint and metrics only, not of its grids and pictures."""
    make_trainer(tmp_path, 12).fit()
    stale = [killed_mid_write(tmp_path / n) for n in ("grid_latest.png", "losses.png",
                                                      "progress.gif", "eval_metrics.png")]
    stale.append(killed_mid_write(tmp_path / "grids" / "step_0000014.png"))
    keep = [tmp_path / "notes.tmp", tmp_path / "grids" / "mine.png.tmp"]
    for p in keep:
        p.write_text("mine")
    trainer = make_trainer(tmp_path, 16)
    trainer.load_checkpoint()
    trainer.fit()
    assert [p.name for p in stale if p.exists()] == []
    assert all(p.read_text() == "mine" for p in keep)
    left = os.listdir(tmp_path) + os.listdir(tmp_path / "grids")
    assert sorted(n for n in left if n.endswith(".tmp")) == ["mine.png.tmp", "notes.tmp"]
    with Image.open(tmp_path / "progress.gif") as gif:
        assert gif.n_frames == len(trainer.grid_files())


IMAGES = np.linspace(-1, 1, 4 * 64, dtype=np.float32).reshape(4, 1, 8, 8)
WRITERS = {"grid_latest.png": lambda path, sign: gan.save_grid(sign * IMAGES, path),
           "progress.gif": lambda path, sign: gan.save_gif(
               [np.uint8(127.5 + 127 * sign * IMAGES[i, 0]) for i in range(2)], path)}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_an_image_write_cut_off_midway_leaves_the_old_image(tmp_path, monkeypatch, name):
    """An image is written atomically: a write that fails (or a process killed) halfway through
    never leaves a truncated file under the image's own name."""
    path = tmp_path / name
    WRITERS[name](path, 1)
    before = path.read_bytes()

    def torn(self, fp, format=None, **params):                  # half the file, then ENOSPC
        with (open(fp, "wb") if isinstance(fp, (str, os.PathLike)) else nullcontext(fp)) as f:
            f.write(before[:20])
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(Image.Image, "save", torn)
    with pytest.raises(OSError, match="No space left"):
        WRITERS[name](path, -1)
    assert path.read_bytes() == before
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


RUN = ["--batch-size", 256, "--max-steps", 40, "--checkpoint-every", 1, "--log-every", 1,
       "--sample-every", 5, "--no-download", "--quiet"]


def start(out, resume):
    argv = [sys.executable, os.path.join(EXAMPLES, "mnist_mlp_gan.py"), "--out", str(out)] + \
        [str(a) for a in RUN] + (["--resume"] if resume else [])
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def step_rows(out):
    return [r for r in metrics_rows(out / "metrics.csv") if r["kind"] == "step"]


def test_kill_9_at_random_moments_then_resume_gives_the_uninterrupted_run(tmp_path):
    """mnist_mlp_gan with a checkpoint after every step (17 steps per epoch, 40 in all), killed
    with SIGKILL at random moments while it trains and resumed each time: the final checkpoint
    equals an uninterrupted run's bit for bit and metrics.csv holds every step exactly once with
    the same losses.

    Each attempt is killed only after it saved a new checkpoint, so every attempt must move the
    run forward; how many attempts that takes depends on the machine's speed (a loaded machine
    may manage one step per attempt: up to 40), so the loop is bounded by progress and time,
    not by a count."""
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    p = start(straight, resume=False)
    assert p.wait(timeout=600) == 0, p.stderr.read()
    rng = np.random.default_rng(12)
    kills, code, ckpt = 0, None, killed / "checkpoint.npz"
    give_up = time.monotonic() + 1800
    while code != 0:
        assert time.monotonic() < give_up, f"no end after {kills} kills in 30 min"
        resume = ckpt.is_file()
        seen = ckpt.stat().st_mtime_ns if resume else 0
        step_before = gan.read_meta(ckpt)["step"] if resume else 0
        p = start(killed, resume)
        deadline = time.monotonic() + 300
        while p.poll() is None and time.monotonic() < deadline:     # wait until it trains: a
            if ckpt.is_file() and ckpt.stat().st_mtime_ns != seen:   # new checkpoint appears
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.4))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        code = p.wait(timeout=600)
        if code != 0:
            assert code == -signal.SIGKILL, p.stderr.read()
            assert gan.read_meta(ckpt)["step"] > step_before, "an attempt made no progress"
    assert kills >= 3, kills

    a, _ = gan.load_checkpoint(straight / "checkpoint.npz")
    b, meta = gan.load_checkpoint(killed / "checkpoint.npz")
    assert meta["step"] == 40 and sorted(a) == sorted(b)
    assert not [k for k in a if not np.array_equal(a[k], b[k])]
    rows_a, rows_b = step_rows(straight), step_rows(killed)
    assert [int(r["step"]) for r in rows_b] == list(range(1, 41))
    assert [(r["loss_D"], r["loss_G"]) for r in rows_a] == [(r["loss_D"], r["loss_G"]) for r in rows_b]
    assert sorted(os.listdir(killed / "grids")) == sorted(os.listdir(straight / "grids"))
    assert not [n for n in os.listdir(killed) if n.endswith(".tmp")]
