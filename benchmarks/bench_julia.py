"""Benchmark the Julia-set backends: numba vs the NumPy reference vs pure Python (vs CuPy).

Default workload = the Knet article's: 6000 images of 58x58 with its constants c
(variant "article"). Every backend is warmed up first (compiled; the fast ones also run the
full workload three times untimed), then timed best-of-R, allocation of the output included.
Throughput is counted in pixel-iterations: the sum over pixels of the iterations actually
performed (the escape count, or 254 for pixels that never escape), so backends timed on
different numbers of images compare fairly. The speedup columns are throughput / the plain
NumPy reference's (``numpy``: whole-array updates every iteration, timed on --numpy-n images
and scaled) and / the compacting NumPy version's (``numpy-compact``: iterates only live pixels).

    python benchmarks/bench_julia.py              # article workload, numba + NumPy on 6000
    python benchmarks/bench_julia.py --quick      # 600 images, one repeat
    python benchmarks/bench_julia.py --variant varied --n 2000 --size 64
"""
import argparse
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench_options import nonneg_int, positive_int  # noqa: E402
from minigan.data.julia import MAX_ITER, julia_c_values, julia_images  # noqa: E402


def pixel_iterations(counts):
    """Iterations performed: the escape count per pixel, MAX_ITER for non-escaping pixels."""
    return float(np.minimum(np.asarray(counts, dtype=np.float64), MAX_ITER).sum())


def cupy_ready():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def time_backend(backend, c, size, repeats):
    """Best-of-``repeats`` wall time of one julia_images call, and its (NumPy) result."""
    sync = lambda: None  # noqa: E731
    if backend == "cupy":
        import cupy
        sync = cupy.cuda.Device().synchronize
    julia_images(c=c[:2], size=size, backend=backend)  # warm-up: compile / load the kernel
    if backend in ("numba", "cupy"):
        for _ in range(3):  # and let threads, allocator and clocks settle on the real size
            julia_images(c=c, size=size, backend=backend)
    sync()
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = julia_images(c=c, size=size, backend=backend)
        sync()
        best = min(best, time.perf_counter() - t0)
    if backend == "cupy":
        out = out.get()
    return best, out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=positive_int, default=6000, help="images for numba / NumPy / CuPy")
    p.add_argument("--size", type=positive_int, default=58, help="image side in pixels")
    p.add_argument("--numpy-n", type=nonneg_int, default=600,
                   help="time the plain NumPy reference on this many images only (it is slow)")
    p.add_argument("--python-n", type=nonneg_int, default=60, help="images for pure Python")
    p.add_argument("--variant", default="article", choices=["article", "varied"])
    p.add_argument("--repeats", type=positive_int, default=5)
    p.add_argument("--seed", type=nonneg_int, default=0)
    p.add_argument("--quick", action="store_true", help="600 images, 12 in Python, 1 repeat")
    args = p.parse_args(argv)
    if args.quick:
        args.n, args.python_n, args.repeats = 600, 12, 1

    import numba
    c = julia_c_values(args.n, seed=args.seed, variant=args.variant)
    plan = [("numba", args.n), ("numpy", min(args.numpy_n or args.n, args.n)),
            ("numpy-compact", args.n), ("python", min(args.python_n, args.n))]
    if cupy_ready():
        plan.append(("cupy", args.n))

    print(f"# Julia-set escape-time benchmark: {args.n} images of {args.size}x{args.size}, "
          f"variant '{args.variant}', seed {args.seed}")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, numba "
          f"{numba.__version__} ({numba.config.NUMBA_NUM_THREADS} threads), numpy "
          f"{np.__version__}; best of {args.repeats} after warm-up, output allocation included")
    rows, results = [], {}
    for backend, n in plan:
        t, out = time_backend(backend, c[:n], args.size, args.repeats)
        results[backend] = out
        rows.append((backend, n, t, pixel_iterations(out)))
    ref = results["numpy"]
    same = all(np.array_equal(out[: len(ref)], ref[: len(out)]) for out in results.values())
    per_pixel = pixel_iterations(results["numba"]) / results["numba"].size
    print(f"# mean iterations per pixel: {per_pixel:.2f}; all backends bit-identical on the "
          f"images they share: {'yes' if same else 'NO'}")
    numpy_rate = next(iters / t for b, _, t, iters in rows if b == "numpy")
    compact_rate = next(iters / t for b, _, t, iters in rows if b == "numpy-compact")
    print()
    print(f"| backend | images timed | time (s) | est. time for {args.n} images (s) "
          f"| pixel-iterations/s | × NumPy reference | × NumPy compact |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for backend, n, t, iters in rows:
        rate = iters / t
        est = t * args.n / n
        scaled = "" if n == args.n else f" (scaled from {n})"
        print(f"| {backend} | {n} | {t:.4f} | {est:.3f}{scaled} | {rate:.3e} | "
              f"{rate / numpy_rate:.1f}x | {rate / compact_rate:.1f}x |")
    if not same:
        sys.exit("backends disagree")


if __name__ == "__main__":
    main()
