"""Issue 26, "data loss": a run owns its output folder (a lock with the owner's pid; a dead
owner's lock is taken over), a closed terminal (SIGHUP) stops training like SIGTERM."""
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from minigan import gan
from minigan.files.lock import LOCK_FILE, FolderLock
from test_examples import ROOT, run
from test_gan_trainer import make_trainer
from test_reliability_cli import TINY, failure, snapshot

HOLD = ("import sys, time; from minigan.files.lock import FolderLock; "
        "FolderLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(120)")


@pytest.fixture
def holder(tmp_path):
    """Another live process holding the lock of tmp_path/'out' (a copy of an old run's folder)."""
    procs = []

    def hold(folder):
        env = dict(os.environ, PYTHONPATH=ROOT)
        p = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE,
                             env=env, text=True)
        procs.append(p)
        assert p.stdout.readline().strip() == "held"
        return p
    yield hold
    for p in procs:
        p.kill()
        p.wait()


@pytest.mark.parametrize("name, options", [("mnist_dcgan", TINY), ("one_parameter_gan", ["--quiet"])])
def test_a_second_run_in_a_folder_in_use_is_refused(tmp_path, capsys, holder, name, options):
    out = tmp_path / "out"
    assert run(name, "--max-steps", 2, "--out", out, *options) == 0
    before = snapshot(out)
    p = holder(out)
    for extra in ([], ["--resume"]):
        line = failure(capsys, name, "--max-steps", 4, "--out", out, *options, *extra)
        assert f"--out {out}: in use by another run (pid {p.pid}" in line
    after = snapshot(out)
    after.pop(LOCK_FILE)
    assert after == before


def test_dcgan_from_scratch_refuses_a_folder_in_use(tmp_path, capsys, holder):
    out = tmp_path / "out"
    p = holder(out)
    line = failure(capsys, "dcgan_from_scratch", "--max-steps", 1, "--out", out)
    assert f"--out {out}: in use by another run (pid {p.pid}" in line
    assert sorted(os.listdir(out)) == [LOCK_FILE]


def test_latent_walk_refuses_a_folder_in_use(tmp_path, capsys, holder):
    run_dir = tmp_path / "run"
    assert run("mnist_dcgan", "--max-steps", 1, "--out", run_dir, *TINY) == 0
    out = tmp_path / "walk"
    p = holder(out)
    line = failure(capsys, "latent_walk", "--checkpoint", run_dir / "checkpoint.npz", "--out", out,
                   "--points", 2, "--steps", 2, "--quiet")
    assert f"in use by another run (pid {p.pid}" in line
    assert sorted(os.listdir(out)) == [LOCK_FILE]


def test_a_dead_runs_lock_is_taken_over_and_released_at_the_end(tmp_path, capsys):
    out = tmp_path / "out"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out.mkdir()
    (out / LOCK_FILE).write_text(f"pid={dead.pid} host=elsewhere started=0\n")
    assert run("one_parameter_gan", "--max-steps", 2, "--out", out, "--quiet") == 0
    assert f"took over the lock of run pid {dead.pid}" in capsys.readouterr().out
    assert not (out / LOCK_FILE).exists()
    with FolderLock(out):                          # free again: this process can take it
        assert (out / LOCK_FILE).read_text().startswith(f"pid={os.getpid()} ")
    assert not (out / LOCK_FILE).exists()


def test_a_lock_on_a_new_folder_that_stays_empty_removes_it(tmp_path):
    with FolderLock(tmp_path / "new"):
        assert (tmp_path / "new").is_dir()
    assert not (tmp_path / "new").exists()


def test_sighup_is_handled_like_sigterm(tmp_path):
    """A closed terminal sends SIGHUP: finish the step, save, stop (it used to kill the run with
    no checkpoint)."""
    previous = signal.getsignal(signal.SIGHUP)

    def hang_up(trainer, row):
        if trainer.step == 5:
            signal.raise_signal(signal.SIGHUP)
    trainer = make_trainer(tmp_path, 20, step_callbacks=[hang_up])
    with pytest.raises(gan.TrainingInterrupted) as info:
        trainer.fit()
    assert info.value.signum == signal.SIGHUP
    assert gan.read_meta(tmp_path / "checkpoint.npz")["step"] == 5
    assert signal.getsignal(signal.SIGHUP) == previous


def test_sighup_to_an_example_saves_and_exits_129(tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "examples", "one_parameter_gan.py"),
                          "--epochs", "100000", "--out", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    deadline = time.time() + 60
    while not (out / "checkpoint.npz").exists() and not (out / "metrics.csv").exists():
        assert time.time() < deadline and p.poll() is None
        time.sleep(0.1)
    p.send_signal(signal.SIGHUP)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGHUP, err
    assert "interrupted at step" in err
    assert gan.read_meta(out / "checkpoint.npz")["step"] > 0


# ----------------------------------------------------------------------------- a new run in an old run's folder
def run_files(folder):
    """{relative path: bytes} of the run's files (the lock and a staging folder excluded)."""
    return {k: v for k, v in snapshot(folder).items() if not k.startswith((".new-run", LOCK_FILE))}


def test_a_new_run_keeps_all_of_the_old_run_until_its_first_checkpoint(tmp_path):
    """A new run deleted the old run's grids at its first step; killed before its first
    checkpoint, the old run resumed with its grids gone and a GIF mixing both runs."""
    make_trainer(tmp_path, 12).fit()                       # the old run: an epoch, its grids
    (tmp_path / "samples.npy").write_bytes(b"old samples")
    old = run_files(tmp_path)
    seen = []

    def killed_at_step_5(trainer, row):
        seen.append(run_files(tmp_path))
        if trainer.step == 5:
            raise KeyboardInterrupt                          # (as a kill: no checkpoint saved)
    with pytest.raises(KeyboardInterrupt):
        make_trainer(tmp_path, 20, seed=4, sample_every=2, step_callbacks=[killed_at_step_5]).fit()
    assert seen and all(s == old for s in seen)              # untouched at every step
    assert run_files(tmp_path) == old
    resumed = make_trainer(tmp_path, 14)                     # the old run goes on as if nothing
    resumed.load_checkpoint()
    resumed.fit()
    assert not (tmp_path / ".new-run").exists()
    assert sorted(os.listdir(tmp_path / "grids")) == ["step_0000000.png", "step_0000012_epoch_001.png",
                                                       "step_0000014.png"]


def test_at_its_first_checkpoint_the_new_run_replaces_all_of_the_old_run(tmp_path):
    make_trainer(tmp_path, 12).fit()
    (tmp_path / "samples.npy").write_bytes(b"old samples")
    make_trainer(tmp_path, 3, seed=4).fit()
    assert sorted(os.listdir(tmp_path / "grids")) == ["step_0000000.png", "step_0000003.png"]
    assert not (tmp_path / "samples.npy").exists()           # the old run's: gone with it
    assert gan.read_meta(tmp_path / "checkpoint.npz")["step"] == 3
    assert not any(n.startswith(".new-run") for n in os.listdir(tmp_path))


def write_files(folder, files):
    for name, text in files.items():
        os.makedirs(os.path.dirname(folder / name), exist_ok=True)
        (folder / name).write_text(text)


@pytest.mark.parametrize("state", [".new-run", ".new-run-ready", ".new-run-moving"])
def test_a_swap_cut_off_by_a_kill_is_finished_or_undone(tmp_path, state):
    """Killed before the commit point (.new-run): the old run stays whole; after it (-ready,
    -moving, some new files already moved in): the new run is completed."""
    from minigan.gan.outputs import finish_swap
    old = {"checkpoint.npz": "old", "metrics.csv": "old", "grids/step_0000012.png": "old",
           "samples.npy": "old"}
    new = {"checkpoint.npz": "new", "metrics.csv": "new", "grids/step_0000003.png": "new"}
    write_files(tmp_path, old)
    if state == ".new-run-moving":                      # old-only files already gone, one moved in
        os.remove(tmp_path / "samples.npy")
        os.remove(tmp_path / "grids/step_0000012.png")
        (tmp_path / "metrics.csv").write_text("new")
        write_files(tmp_path / state, {k: v for k, v in new.items() if k != "metrics.csv"})
    else:
        write_files(tmp_path / state, new)
    finish_swap(str(tmp_path))
    assert run_files(tmp_path) == {k: v.encode() for k, v in (old if state == ".new-run" else new).items()}
    assert sorted(os.listdir(tmp_path)) == sorted({n.split("/")[0] for n in
                                                   (old if state == ".new-run" else new)})


def test_resume_finishes_a_swap_before_reading_the_checkpoint(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run("one_parameter_gan", "--max-steps", 2, "--out", a, "--quiet") == 0
    assert run("one_parameter_gan", "--max-steps", 3, "--out", b, "--quiet", "--seed", 1) == 0
    os.rename(b, a / ".new-run-ready")                       # killed right after the commit point
    capsys.readouterr()
    assert run("one_parameter_gan", "--resume", "--max-steps", 4, "--out", a) == 0
    assert "step 3" in capsys.readouterr().out.split("resuming from")[1].splitlines()[0]


@pytest.mark.parametrize("name, content, message", [
    ("checkpoint.npz", b"my thesis, not a checkpoint", "which is not a readable minigan checkpoint"),
    ("metrics.csv", b"date,weight\n2026-01-01,71.5\n", "which is not a minigan metrics file"),
])
def test_a_new_run_refuses_to_replace_a_foreign_file(tmp_path, capsys, name, content, message):
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_bytes(content)
    line = failure(capsys, "one_parameter_gan", "--max-steps", 2, "--out", out)
    assert f"--out {out}: a new run would replace {out / name}, {message}" in line
    assert snapshot(out) == {name: content}


@pytest.mark.parametrize("edit, message", [
    (lambda rows: rows[2].__setitem__(5, "inf"), "row 3: loss_D is 'inf', not a finite number"),
    (lambda rows: rows[2].__setitem__(5, "1e400"), "row 3: loss_D is '1e400', not a finite number"),
    (lambda rows: rows[3].__setitem__(6, "lots"), "row 4: loss_G is 'lots', expected a number"),
    (lambda rows: rows[3].__setitem__(2, "x"), "row 4: step is 'x', expected a number"),
    (lambda rows: rows[2].__setitem__(0, "stp"), "row 3: it has no kind 'step' or 'epoch'"),
    (lambda rows: rows[2].__setitem__(5, "0.5\0"), "row 3: holds a NUL byte"),
    (lambda rows: rows[2].__setitem__(5, "9" * 200_000), "row 3: is 200,"),
    (lambda rows: rows[2].__setitem__(5, "9" * 20_000), "row 3: its loss_D field is 20,000 characters"),
])
def test_hand_edited_metrics_rows_are_named_not_dropped(tmp_path, edit, message):
    """Unparsable rows vanished on resume; inf and 1e400 were taken as numbers; a NUL byte or an
    enormous field ended in csv's traceback."""
    make_trainer(tmp_path, 6).fit()
    path = tmp_path / "metrics.csv"
    rows = [line.split(",") for line in path.read_text().splitlines()]
    edit(rows)
    path.write_text("\n".join(",".join(r) for r in rows) + "\n")
    before = snapshot(tmp_path)
    trainer = make_trainer(tmp_path, 8)
    with pytest.raises(ValueError, match=rf"cannot resume .*{re.escape(str(path))}.*{re.escape(message)}"):
        trainer.load_checkpoint()
    assert trainer.step == 0 and snapshot(tmp_path) == before


def test_a_trainer_in_a_script_refuses_to_replace_a_foreign_checkpoint(tmp_path):
    (tmp_path / "checkpoint.npz").write_bytes(b"not mine to replace")
    with pytest.raises(ValueError, match=r"checkpoint.npz: a new run would replace it, but it is not "
                                         r"a readable minigan checkpoint"):
        make_trainer(tmp_path, 2).fit()
    assert snapshot(tmp_path) == {"checkpoint.npz": b"not mine to replace"}
