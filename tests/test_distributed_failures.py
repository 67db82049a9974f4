"""The processes of a data-parallel run start from one configuration and fail as one
(minigan/distributed/together.py): different settings are refused on every process with one line
naming the option, before anything is written; one process failing — an error it alone sees, or
a bug — ends every process within seconds instead of leaving them waiting in a collective.

The mpirun tests are skipped when mpi4py or mpirun is missing (``pip install -e '.[mpi]'``).
"""
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from minigan import gan, nn
from minigan.distributed import DataParallel, mpi_available
from minigan.distributed.thread_comm import run_ranks
from minigan.distributed.together import SettingsDiffer, check_same

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGSHIP = os.path.join(ROOT, "examples", "mnist_dcgan.py")
FAILING = os.path.join(ROOT, "tests", "dp_fail_worker.py")
MPIRUN = shutil.which("mpirun") or shutil.which("mpirun", path=os.path.dirname(sys.executable))
needs_mpi = pytest.mark.skipif(not (mpi_available() and MPIRUN),
                               reason="needs mpi4py and mpirun: pip install -e '.[mpi]'")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", PYTHONPATH=ROOT)


def _each_rank(settings_of_rank):
    def fn(comm):
        try:
            check_same(comm, settings_of_rank(comm.rank), what="option")
        except SettingsDiffer as e:
            return e
    return run_ranks(2, fn)


def test_equal_settings_pass_and_the_first_differing_one_is_named_with_each_value():
    assert _each_rank(lambda r: {"--seed": 1, "--lr-g": 2e-4}) == [None, None]
    errors = _each_rank(lambda r: {"--seed": 1, "--lr-g": [2e-4, 1e-3][r], "--z-dim": [100, 64][r]})
    assert [type(e) for e in errors] == [SettingsDiffer] * 2          # every process refuses
    assert [e.speaker for e in errors] == [True, False]               # rank 0 reports it
    assert str(errors[0]) == ("--data-parallel: the 2 processes were given different options: "
                              "--lr-g is 0.0002 on rank 0, 0.001 on rank 1 (every process of "
                              "mpirun must get the same command line and data)")
    missing = _each_rank(lambda r: {"--seed": 1} if r == 0 else {"--seed": 1, "--extra": 3})
    assert "the settings' names is same on rank 0, --extra given on rank 1" in str(missing[0])


@pytest.mark.parametrize("differ,says", [
    ("z_dim", "config.z_dim is 8 on rank 0, 6 on rank 1"),
    ("data", "data is ")])
def test_a_trainer_refuses_processes_with_different_models_or_data_before_writing(tmp_path, differ,
                                                                                  says):
    def fn(comm):
        z = [8, 6][comm.rank] if differ == "z_dim" else 8
        data = np.random.default_rng(comm.rank if differ == "data" else 0).random((32, 4), np.float32)
        cfg = gan.TrainConfig(batch_size=8, epochs=1, z_dim=z, n_fixed=4)
        trainer = gan.GANTrainer(nn.Sequential(nn.Linear(z, 4)), nn.Sequential(nn.Linear(4, 1)), cfg,
                                 data=data, out_dir=tmp_path / "out", render="none",
                                 quiet=True, progress=False, parallel=DataParallel(comm))
        try:
            trainer.fit()
        except SettingsDiffer as e:
            return str(e)
    messages = run_ranks(2, fn)
    assert messages[0] == messages[1] and says in messages[0], messages[0]
    assert not (tmp_path / "out").exists()


def mpirun(per_rank, timeout=120):
    """Run ``per_rank`` (a list, one argv per process) under mpirun; (returncode, stderr, s)."""
    command = [MPIRUN, "--oversubscribe"]
    for i, argv in enumerate(per_rank):
        command += ([":"] if i else []) + ["-n", "1", sys.executable] + [str(a) for a in argv]
    start = time.monotonic()
    p = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=timeout, cwd=ROOT)
    return p.returncode, p.stderr, time.monotonic() - start


def flagship(out, *extra):
    return [FLAGSHIP, "--data-parallel", "--batch-size", 16, "--no-download", "--quiet",
            "--max-steps", 3, "--out", out] + list(extra)


def minigan_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("mnist_dcgan.py:")]


@needs_mpi
@pytest.mark.parametrize("option,values", [("--lr-g", ("0.0002", "0.001")), ("--z-dim", ("100", "64")),
                                           ("--max-steps", ("3", "5")), ("--seed", ("0", "1"))])
def test_processes_given_different_options_are_refused_naming_the_option(tmp_path, option, values):
    out = tmp_path / "run"
    code, stderr, _ = mpirun([flagship(out, option, v) for v in values])
    assert code == 2, stderr
    [line] = minigan_lines(stderr)
    assert line.startswith(f"mnist_dcgan.py: error: --data-parallel: the 2 processes were given "
                           f"different options: {option} is ")
    assert not out.exists()                                   # refused before any write


@needs_mpi
@pytest.mark.parametrize("rank,how,code,says", [
    (0, "disk-full", 2, "mnist_dcgan.py: error: OUT/checkpoint.npz: No space left on device"),
    (1, "bug", 1, "RuntimeError: a bug on one process")])
def test_one_process_failing_ends_every_process_within_seconds(tmp_path, rank, how, code, says):
    argv = [FAILING, rank, how] + flagship(tmp_path / "run", "--checkpoint-every", 1)
    argv[argv.index("--max-steps") + 1] = 10 ** 6                 # the others would wait forever
    returncode, stderr, seconds = mpirun([argv, argv], timeout=180)
    assert returncode == code, stderr
    assert stderr.count(says) == 1, stderr
    assert seconds < 120


@needs_mpi
def test_an_example_under_mpirun_without_data_parallel_is_refused(tmp_path):
    out = tmp_path / "run"
    argv = [os.path.join(ROOT, "examples", "one_parameter_gan.py"), "--max-steps", 3, "--out", out]
    code, stderr, _ = mpirun([argv, argv])
    assert code == 2, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("one_parameter_gan.py:")]
    assert lines and set(lines) == {
        "one_parameter_gan.py: error: started by mpirun as one of 2 processes without --data-parallel: "
        "each would train alone and write the same --out (add --data-parallel to every process, or "
        "run one process)"}
    assert not out.exists()


@needs_mpi
def test_a_failure_every_process_reaches_is_reported_once_and_ends_them_normally(tmp_path):
    argv = flagship(tmp_path / "run")
    argv[argv.index("--batch-size") + 1] = 15                    # 15 rows over 2 processes
    code, stderr, _ = mpirun([argv, argv])
    assert code == 2, stderr
    assert minigan_lines(stderr) == ["mnist_dcgan.py: error: --data-parallel: the batch of 15 cannot "
                                     "be split evenly over 2 processes (use a multiple of 2)"]
    assert "MPI_ABORT" not in stderr and not (tmp_path / "run").exists()
