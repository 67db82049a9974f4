"""Forward and backward time of every layer of the flagship DCGAN, at its real sizes.

Each layer is timed on the activation it really sees in examples/mnist_dcgan.py (batch 64
and 128), forward and backward separately (median of repeats, after a warm-up), on NumPy and
— when a GPU is present — CuPy. The "share" column weighs each layer by how often one GAN
training step runs it (G: forward and backward once; D: forward and backward three times:
real batch, fake batch, and the generator's pass) and divides by the sum over all layers.

    python benchmarks/bench_layers.py
    python benchmarks/bench_layers.py --batch 128 --repeats 20 --device cpu
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if __name__ == "__main__":
    from blas_env import use_native_blas_kernels
    use_native_blas_kernels()   # before NumPy loads OpenBLAS: see blas_env.py

import numpy as np  # noqa: E402
import minigan as mg  # noqa: E402
from bench_options import positive_int  # noqa: E402
from bench_step import layer_flops  # noqa: E402
from dcgan_models import Z_DIM, minigan_dcgan  # noqa: E402

RUNS_PER_STEP = {"G": 1, "D": 3}


def _sync(device):
    if device == "cuda":
        import cupy
        cupy.cuda.Device().synchronize()


def median_ms(fn, device, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


def layer_rows(batch, device, repeats):
    """One row per layer: name, input/output shape, forward/backward ms, GFLOP/s."""
    mg.seed(0)
    G, D = (m.to(device) for m in minigan_dcgan())
    rng = np.random.default_rng(0)
    z = mg.to_device(rng.standard_normal((batch, Z_DIM)).astype(np.float32), device)
    rows = []
    for tag, model, x in (("G", G, z), ("D", D, None)):
        h = x if x is not None else G(z)
        for i, layer in enumerate(model):
            inp = h
            out = layer(inp)
            dy = mg.get_array_module(out).empty_like(out)   # laid out in memory like the real gradient
            dy[...] = mg.to_device(rng.standard_normal(out.shape).astype(np.float32), device)
            fwd = median_ms(lambda: layer(inp), device, repeats)
            layer(inp)
            bwd = median_ms(lambda: layer.backward(dy), device, repeats)
            flops = layer_flops(layer, inp.shape, out.shape)
            rows.append({"layer": f"{tag}[{i}] {type(layer).__name__}", "runs": RUNS_PER_STEP[tag],
                         "in": tuple(inp.shape), "out": tuple(out.shape), "fwd_ms": fwd, "bwd_ms": bwd,
                         "fwd_gflops": flops / fwd / 1e6 if flops else None,
                         "bwd_gflops": 2 * flops / bwd / 1e6 if flops else None})
            h = out
    total = sum(r["runs"] * (r["fwd_ms"] + r["bwd_ms"]) for r in rows)
    for r in rows:
        r["share"] = r["runs"] * (r["fwd_ms"] + r["bwd_ms"]) / total
    return rows, total


def print_table(rows, total, batch, device):
    print(f"\n### {device}, batch {batch}: per-layer time (sum over one step ≈ {total:.0f} ms)\n")
    print("| layer | input → output | fwd ms | bwd ms | fwd GFLOP/s | bwd GFLOP/s | × per step | share |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        fg = f"{r['fwd_gflops']:.0f}" if r["fwd_gflops"] else ""
        bg = f"{r['bwd_gflops']:.0f}" if r["bwd_gflops"] else ""
        print(f"| {r['layer']} | {r['in']} → {r['out']} | {r['fwd_ms']:.2f} | {r['bwd_ms']:.2f} | {fg} | {bg} | "
              f"{r['runs']} | {100 * r['share']:.1f}% |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=positive_int, nargs="+", default=[64, 128])
    parser.add_argument("--repeats", type=positive_int, default=10)
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    args = parser.parse_args(argv)
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    if "cuda" in devices and not mg.cuda_available():
        if args.device == "cuda":
            parser.error("--device cuda: no CUDA GPU with CuPy found")
        devices.remove("cuda")
    for device in devices:
        for batch in args.batch:
            rows, total = layer_rows(batch, device, args.repeats)
            print_table(rows, total, batch, device)


if __name__ == "__main__":
    main()
