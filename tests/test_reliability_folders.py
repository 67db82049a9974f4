"""Issue 26, "data loss": a run owns its output folder (a lock with the owner's pid; a dead
owner's lock is taken over), a closed terminal (SIGHUP) stops training like SIGTERM."""
import os
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
