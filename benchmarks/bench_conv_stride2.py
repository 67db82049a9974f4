"""Why D's stride-2 Conv2d (64→128, 5×5, 14×14 → 7×7) runs below SGEMM speed: its parts,
and the alternatives tried for issue 13, timed in one process (medians of 15).

    python benchmarks/bench_conv_stride2.py            # batch 64
    python benchmarks/bench_conv_stride2.py --batch 128

1. The layer's forward + backward as minigan computes it (im2col, three GEMMs, col2im), the
   same in chunks of output rows (im2col/col2im of a chunk stay in cache, the GEMMs shrink).
2. Each GEMM in both orientations (C = A·B and Cᵀ = Bᵀ·Aᵀ), against a square SGEMM.
3. The backward's two independent GEMMs on 2 BLAS threads one after the other vs. on 1 thread
   each, at the same time (numpy drops the GIL in matmul; threadpoolctl sets the threads).
"""
import argparse
import threading
import time

import numpy as np

from bench_options import positive_int
from minigan.kernels.im2col import col2im_image as col2im, im2col_into as im2col
from minigan.kernels.workspace import Workspace


def median_ms(fn, repeats=15):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=positive_int, default=64)
    args = p.parse_args(argv)
    N, C, H, Co, k, s, pad, Ho = args.batch, 64, 14, 128, 5, 2, 2, 7
    r = np.random.default_rng(0)
    x = r.standard_normal((C, H, H, N), dtype=np.float32)                 # batch-last (C, H, W, N)
    W = r.standard_normal((Co, C * k * k), dtype=np.float32)
    dy = r.standard_normal((Co, Ho * Ho * N), dtype=np.float32)
    ws = Workspace()
    gflop = 2 * Co * C * k * k * Ho * Ho * N / 1e9                       # per GEMM

    dcols = np.empty((C * k * k, Ho * Ho * N), np.float32)               # Conv2d's reused buffer

    def whole():
        cols = im2col(x, (k, k), (s, s), (pad, pad), (Ho, Ho), ws)
        W @ cols, dy @ cols.T
        col2im(np.matmul(W.T, dy, out=dcols), C, (H, H), (k, k), (s, s), (pad, pad), (Ho, Ho))

    padded = np.zeros((C, H + 2 * pad, H + 2 * pad, N), np.float32)

    def chunked(rows):
        padded[:, pad:pad + H, pad:pad + H] = x
        y, dw, dpadded = np.empty((Co, Ho * Ho * N), np.float32), np.zeros_like(W), np.zeros_like(padded)
        for r0 in range(0, Ho, rows):
            r1 = min(Ho, r0 + rows)
            span = slice(s * r0, s * (r1 - 1) + k)                        # padded input rows read
            cols = im2col(padded[:, span], (k, k), (s, s), (0, 0), (r1 - r0, Ho), ws, f"c{r1 - r0}")
            part = slice(r0 * Ho * N, r1 * Ho * N)
            np.matmul(W, cols, out=y[:, part])
            dw += dy[:, part] @ cols.T
            dpadded[:, span] += col2im(W.T @ dy[:, part], C, (span.stop - span.start, H + 2 * pad),
                                       (k, k), (s, s), (0, 0), (r1 - r0, Ho))

    print(f"D's Conv2d 64→128 5×5 stride 2, batch {N}: forward + backward, ms")
    print(f"  as minigan computes it: {median_ms(whole):.1f}")
    for rows in (1, 2, 4, 7):
        print(f"  in chunks of {rows} output row(s): {median_ms(lambda: chunked(rows)):.1f}")

    cols = im2col(x, (k, k), (s, s), (pad, pad), (Ho, Ho), ws)
    print(f"  im2col {median_ms(lambda: im2col(x, (k, k), (s, s), (pad, pad), (Ho, Ho), ws)):.2f} ms, "
          f"col2im {median_ms(lambda: col2im(dcols, C, (H, H), (k, k), (s, s), (pad, pad), (Ho, Ho))):.2f} ms")
    a = r.standard_normal((2048, 2048), dtype=np.float32)
    square = 2 * 2048 ** 3 / 1e9 / (median_ms(lambda: a @ a, 5) / 1e3)
    print(f"\nGEMMs ({gflop:.2f} GFLOP each), GFLOP/s; square 2048³ SGEMM: {square:.0f}")
    for name, (A, B) in {"forward  Y = W·X": (W, cols), "forward  Yᵀ = Xᵀ·Wᵀ": (cols.T, W.T),
                         "∂W = dY·Xᵀ": (dy, cols.T), "∂Wᵀ = X·dYᵀ": (cols, dy.T),
                         "∂X = Wᵀ·dY": (W.T, dy), "∂Xᵀ = dYᵀ·W": (dy.T, W)}.items():
        out = np.empty((A.shape[0], B.shape[1]), np.float32)
        print(f"  {name:<22} {gflop / median_ms(lambda: np.matmul(A, B, out=out)) * 1e3:5.0f}")

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return print("\n(threadpoolctl is not installed: the threads comparison is skipped)")
    dw = np.empty_like(W)

    def one_after_the_other():
        np.matmul(dy, cols.T, out=dw)
        np.matmul(W.T, dy, out=dcols)

    def side_by_side():
        with threadpool_limits(1, "blas"):
            t = threading.Thread(target=np.matmul, args=(dy, cols.T), kwargs=dict(out=dw))
            t.start()
            np.matmul(W.T, dy, out=dcols)
            t.join()
    print(f"\nbackward's two GEMMs: one after the other on 2 threads {median_ms(one_after_the_other):.1f} ms, "
          f"side by side on 1 thread each {median_ms(side_by_side):.1f} ms")


if __name__ == "__main__":
    main()
