"""Scaling of data-parallel training: images/s of the flagship DCGAN step with 1, 2, ... MPI
processes (one BLAS/numba thread each) against one process using all cores, in one run.

    python benchmarks/bench_data_parallel.py                    # global batch 64, up to all cores
    python benchmarks/bench_data_parallel.py --batch 128 --processes 1 2 4

Each configuration runs in fresh processes (``mpirun -n K`` for K > 1) that time the whole
training step (D step + G step, gradient averaging, SyncBatchNorm's messages, the stop flag)
after warm-up steps; a step takes as long as its slowest process. "allreduce" is the share of
the step spent inside MPI calls (waiting for the other processes included). Writes the table to
benchmarks/results/data_parallel_<machine>.md.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if __name__ == "__main__":
    from blas_env import use_native_blas_kernels
    use_native_blas_kernels()   # before NumPy loads OpenBLAS: see blas_env.py

import numpy as np  # noqa: E402

from bench_options import nonneg_int, positive_int, save_result  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "NUMBA_NUM_THREADS": "1"}


class TimedComm:
    """A communicator that adds up the seconds spent in its collective calls."""

    def __init__(self, comm):
        self.comm, self.rank, self.size, self.seconds = comm, comm.rank, comm.size, 0.0

    def _timed(self, fn, *args):
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.seconds += time.perf_counter() - t0

    def allreduce_sum(self, a):
        return self._timed(self.comm.allreduce_sum, a)

    def allreduce_max(self, a):
        return self._timed(self.comm.allreduce_max, a)

    def broadcast(self, a, root=0):
        return self._timed(self.comm.broadcast, a, root)


def worker(batch, steps, warmup, parallel):
    """Time ``steps`` training steps; prints one JSON line (rank 0)."""
    import minigan as mg
    from minigan import gan
    from minigan.data import load_mnist_5k, scale_to_tanh_range
    from minigan.distributed import DataParallel, MPIComm
    from minigan.gan.models import dcgan28_discriminator, dcgan28_generator
    images, _ = load_mnist_5k("train")
    comm = TimedComm(MPIComm()) if parallel else None
    dp = DataParallel(comm) if parallel else None
    mg.seed(0)
    trainer = gan.GANTrainer(dcgan28_generator(), dcgan28_discriminator(),
                             gan.TrainConfig(batch_size=batch, epochs=1, seed=0), data=images[:, None],
                             transform=scale_to_tanh_range, quiet=True, progress=False, parallel=dp)
    trainer.perm = trainer.rng.permutation(trainer.n_data)
    times, comm_share = [], []
    for i in range(warmup + steps):
        real = trainer._real_batch(i % trainer.steps_per_epoch)
        if comm is not None:
            comm.seconds = 0.0
        t0 = time.perf_counter()
        trainer.parallel.agree(trainer.train_step(real), 0)
        dt = time.perf_counter() - t0
        if i >= warmup:
            times.append(dt)
            comm_share.append(comm.seconds / dt if comm is not None else 0.0)
    times = np.array(times)
    if comm is not None:                        # the step lasts as long as the slowest process
        times = comm.comm.allreduce_max(times.copy())
    if trainer.parallel.is_main:
        print(json.dumps({"median_s": float(np.median(times)), "allreduce_share": float(np.median(comm_share))}))


def run_config(processes, threads, args):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    if threads == 1:
        env.update(ONE_THREAD)
    command = [sys.executable, os.path.abspath(__file__), "--keep-blas-coretype", "--worker",
               "--batch", str(args.batch), "--steps", str(args.steps), "--warmup", str(args.warmup)]
    if processes > 1:
        command = [shutil.which("mpirun"), "--oversubscribe", "-n", str(processes)] + command + ["--parallel"]
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    found = [line[line.index("{"):] for line in out.stdout.splitlines() if "{" in line]
    if out.returncode or not found:
        raise SystemExit(f"{' '.join(command)} failed:\n{out.stdout}{out.stderr}")
    return json.loads(found[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=positive_int, default=64, help="global batch size")
    p.add_argument("--processes", type=positive_int, nargs="+", default=None,
                   help="process counts to try (default: 1, 2, 4, ... up to the number of cores)")
    p.add_argument("--steps", type=positive_int, default=12)
    p.add_argument("--warmup", type=nonneg_int, default=3)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--parallel", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args.batch, args.steps, args.warmup, args.parallel)
    uneven = [k for k in args.processes or [] if args.batch % k]
    if uneven:
        p.error(f"--processes {uneven[0]}: the global batch of {args.batch} (--batch) cannot be "
                f"split evenly over {uneven[0]} processes")
    if shutil.which("mpirun") is None:
        p.error("mpirun not found: pip install -e '.[mpi]'")
    cores = os.cpu_count() or 1
    counts = args.processes or [k for k in (1, 2, 4, 8, 16, 32, 64) if k <= cores]
    from bench_step import machine_name, slug
    machine = machine_name()
    rows = [(f"1 process × {cores} threads (all cores)", run_config(1, cores, args))]
    rows += [(f"{k} process{'es' if k > 1 else ''} × 1 thread", run_config(k, 1, args)) for k in counts]
    base = rows[0][1]["median_s"]
    lines = [f"Data-parallel DCGAN step (flagship models, global batch {args.batch}), {machine}",
             f"`python benchmarks/bench_data_parallel.py --batch {args.batch}` "
             f"({time.strftime('%Y-%m-%d')}; median of {args.steps} steps after {args.warmup})", "",
             "| configuration | step ms | images/s | vs all cores in one process | allreduce share |",
             "|---|---|---|---|---|"]
    for name, r in rows:
        lines.append(f"| {name} | {1000 * r['median_s']:.1f} | {args.batch / r['median_s']:.0f} | "
                     f"{base / r['median_s']:.2f}× | {100 * r['allreduce_share']:.1f}% |")
    text = "\n".join(lines)
    print(text)
    print(save_result(os.path.join(RESULTS, f"data_parallel_{slug(machine)}.md"), text + "\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
