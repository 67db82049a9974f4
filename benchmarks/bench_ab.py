"""Before/after in one run: the training step of bench_step.py from two (or more) minigan
source trees and PyTorch, interleaved, each as a ratio to PyTorch measured alongside.

Each tree runs in its own worker process (``PYTHONPATH=<tree>``), and so does PyTorch; the
parent asks them for one step each in turn, after a warm-up, and reports medians. The order
turns by one place each round (A B T, B T A, T A B, ...) and the parent waits ``--pause``
seconds before each step: OpenBLAS's threads spin ≈ 0.1 s after a product before they sleep,
and with a fixed order and a 0.05 s pause the tree that always ran second was ≈ 10% slower
than the same code run first (A/B of two trees, then the trees swapped: 145.7 vs 165.4 ms and
144.6 vs 175.9 ms at batch 16). On a shared machine the absolute times drift; the ratios of neighbours do not.

    git worktree add /tmp/base main
    python benchmarks/bench_ab.py --trees /tmp/base . --model dcgan64 --batch 16 32 64
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
if __name__ == "__main__":
    from blas_env import use_native_blas_kernels
    use_native_blas_kernels()   # before NumPy loads OpenBLAS (blas_env.py); the workers inherit it


def worker(engine, model, batch):
    """Child: build the engine, then run one step per line read from stdin, print seconds."""
    import bench_step
    e = bench_step.make_engine(engine, batch, model=model)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "step":
            break
        t = time.perf_counter()
        e()
        print(time.perf_counter() - t, flush=True)


def main(argv=None):
    from bench_options import nonneg_int, positive_int
    from bench_step import MODELS, OneLineParser
    p = OneLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trees", nargs="+", required=True, help="minigan source trees (repository roots)")
    p.add_argument("--model", default="dcgan64", choices=sorted(MODELS))
    p.add_argument("--batch", type=positive_int, nargs="+", default=None)
    p.add_argument("--repeats", type=positive_int, default=7)
    p.add_argument("--warmup", type=nonneg_int, default=2)
    p.add_argument("--pause", type=float, default=0.3,
                   help="seconds between steps, for the last engine's threads to go idle (default 0.3)")
    p.add_argument("--engine", default="minigan-numpy", help="the minigan engine (bench_step.py's names)")
    p.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args.worker[0], args.worker[1], int(args.worker[2]))
    for tree in args.trees:
        if not os.path.isdir(os.path.join(tree, "minigan")):
            p.error(f"--trees {tree}: no minigan package there")
    out = []
    for batch in args.batch or MODELS[args.model].batches:
        procs = {}
        workers = [(t, t, args.engine) for t in args.trees] + [("torch-cpu", args.trees[0], "torch-cpu")]
        for label, tree, engine in workers:
            env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
            procs[label] = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--trees", tree,
                                             "--worker", engine, args.model, str(batch)],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
            assert procs[label].stdout.readline().strip() == "ready"
        times = {k: [] for k in procs}
        labels = list(procs)
        for r in range(args.warmup + args.repeats):
            # each round starts one place further on (A B T, B T A, T A B, ...): a step right
            # after another engine's runs beside its still-spinning BLAS/OpenMP threads
            # (≈ 10% slower here with a 0.05 s pause, always the same tree in a fixed order)
            for label in labels[r % len(labels):] + labels[:r % len(labels)]:
                proc = procs[label]
                time.sleep(args.pause)
                proc.stdin.write("step\n")
                proc.stdin.flush()
                seconds = float(proc.stdout.readline())
                if r >= args.warmup:
                    times[label].append(seconds)
        for proc in procs.values():
            proc.stdin.close()
            proc.wait()
        med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
        best = {k: min(v) for k, v in times.items()}
        for label in procs:
            row = {"batch": batch, "tree": label, "ms": 1e3 * med[label], "x_torch": med["torch-cpu"] / med[label],
                   "min_ms": 1e3 * best[label], "min_x_torch": best["torch-cpu"] / best[label]}
            out.append(row)
            print(f"{args.model} batch {batch:4d}  {label:30s} median {row['ms']:8.1f} ms {row['x_torch']:.2f}× "
                  f"PyTorch | fastest {row['min_ms']:8.1f} ms {row['min_x_torch']:.2f}×", flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
