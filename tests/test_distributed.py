"""Data-parallel training over MPI (minigan.distributed) equals one process with the same global
batch: the flagship models (BatchNorm in G, Dropout in D, soft and flipped labels), 6 steps.

Not bit-exact, by design of floating point: with K processes every sum over the batch (in the
GEMMs, BatchNorm's statistics, the losses) becomes K partial sums added in another order. In
float64 the runs agree to 1e-9 of each array's scale (measured: 1.5e-13 after 6 steps), which
proves the algorithm the same; in float32 each step's rounding (1e-7 relative) is amplified by
Adam, whose first steps move a weight by ≈ lr·sign(g): a tiny gradient whose sign rounding
flips moves 2·lr apart. So float32 weights must agree within lr = 2e-4 after 6 steps
(measured on 2 cores: at most 5.5e-5 = 0.28·lr with two BLAS/numba threads per process, 0.013·lr
with one; G's BatchNorm biases up to 0.7% of their largest value: docs/data-parallel.md).
Processes always end with identical weights.

Runs ``mpirun -n 2``; skipped when mpi4py or mpirun is missing (``pip install -e '.[mpi]'``).
"""
import csv
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from minigan import gan
from minigan.distributed import mpi_available

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "tests", "dp_worker.py")
MPIRUN = shutil.which("mpirun")

pytestmark = pytest.mark.skipif(not (mpi_available() and MPIRUN),
                                reason="needs mpi4py and mpirun: pip install -e '.[mpi]'")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")


def run(argv, processes=None):
    command = [sys.executable] + [str(a) for a in argv]
    if processes:
        command = [MPIRUN, "--oversubscribe", "-n", str(processes)] + command
    p = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=600, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def arrays(path):
    a, meta = gan.load_checkpoint(path)
    return {k: v for k, v in a.items() if v.dtype.kind == "f" and not k.startswith("trainer/")}, meta


@pytest.mark.parametrize("precision,tolerance", [("double", "relative 1e-9"), ("float", "absolute 2e-4")])
def test_two_processes_train_like_one(tmp_path, precision, tolerance):
    flags = ["--double"] if precision == "double" else []
    run([WORKER, tmp_path / "one"] + flags)
    run([WORKER, tmp_path / "two", "--parallel"] + flags, processes=2)
    one, meta_one = arrays(tmp_path / "one" / "checkpoint.npz")
    two, meta_two = arrays(tmp_path / "two" / "checkpoint.npz")
    assert meta_one["step"] == meta_two["step"] == 6 and sorted(one) == sorted(two)
    for k in one:
        diff = float(np.abs(one[k] - two[k]).max())
        if precision == "double":
            assert diff <= 1e-9 * float(np.abs(one[k]).max()) + 1e-300, (k, diff)
        elif k.startswith(("G/", "D/")):
            assert diff <= 2e-4, (k, diff)                   # weights, BatchNorm's running stats
    rank0 = np.load(tmp_path / "two" / "weights_rank0.npz")
    rank1 = np.load(str(tmp_path / "two") + "_rank1.npz")
    assert all(np.array_equal(rank0[k], rank1[k]) for k in rank0.files)   # one model, two copies
    with open(tmp_path / "two" / "metrics.csv", newline="") as f:
        steps = [r for r in csv.DictReader(f) if r["kind"] == "step"]
    assert [int(r["step"]) for r in steps] == list(range(1, 7))             # written once


def test_a_data_parallel_run_resumes_exactly(tmp_path):
    run([WORKER, tmp_path / "straight", "--parallel"], processes=2)
    run([WORKER, tmp_path / "split", "--parallel", "--steps", 3], processes=2)
    run([WORKER, tmp_path / "split", "--parallel", "--resume"], processes=2)
    a, _ = arrays(tmp_path / "straight" / "checkpoint.npz")
    b, _ = arrays(tmp_path / "split" / "checkpoint.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_the_flagship_example_with_data_parallel(tmp_path):
    out = tmp_path / "dp"
    common = ["--data-parallel", "--batch-size", 16, "--no-download", "--quiet", "--out", out]
    p = run([os.path.join(ROOT, "examples", "mnist_dcgan.py"), "--max-steps", 4] + common, processes=2)
    assert p.stdout.count("minigan mnist_dcgan: device cpu") == 1          # rank 0 speaks
    assert "data-parallel: 2 processes, 8 of the 16 samples of each batch each" in p.stdout
    assert {"checkpoint.npz", "metrics.csv", "losses.png", "grid_latest.png", "grids"} <= set(os.listdir(out))
    run([os.path.join(ROOT, "examples", "mnist_dcgan.py"), "--resume", "--max-steps", 6] + common,
        processes=2)
    assert gan.read_meta(out / "checkpoint.npz")["step"] == 6
