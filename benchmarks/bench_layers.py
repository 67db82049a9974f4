"""Forward and backward time of every layer of a benchmarked GAN, at its real sizes.

``--model`` picks the models (dcgan_models.MODELS: ``dcgan28``, the flagship of
examples/mnist_dcgan.py, batches 64 and 128 by default; ``dcgan64``, the 64×64 RGB DCGAN of
examples/image_folder_dcgan.py, batches 16, 32, 64). Each layer is timed on the activation it
really sees in the step — the previous layer's output, in the memory layout that layer gave it
(batch-last for minigan's fast layers), and an upstream gradient laid out like its output —
forward and backward separately (median of repeats, after a warm-up), on NumPy and — when a
GPU is present — CuPy; with PyTorch installed, the same layer of the PyTorch twin on the
same device beside it (``torch fwd/bwd ms``; its backward is autograd's for that one layer).
The "share" column weighs each layer by how often one GAN
training step runs it (G: forward and backward once; D: forward and backward three times:
real batch, fake batch, and the generator's pass) and divides by the sum over all layers.

    python benchmarks/bench_layers.py
    python benchmarks/bench_layers.py --model dcgan64 --batch 32 --repeats 20 --device cpu
Prints Markdown tables; ``--out FILE`` also writes them to FILE.
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
from bench_step import OneLineParser, check_options, layer_flops  # noqa: E402
from dcgan_models import MODELS  # noqa: E402

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


def torch_layer_ms(model, G, D, batch, device, repeats):
    """[(fwd ms, bwd ms)] for each layer of the PyTorch twin (G's, then D's), on the inputs
    the twin's layers see; None when PyTorch is missing."""
    try:
        import torch
    except ImportError:
        return None
    tdev = "cuda" if device == "cuda" else "cpu"
    if tdev == "cuda" and not torch.cuda.is_available():
        return None
    spec = MODELS[model]
    tG, tD = (m.to(tdev).train() for m in spec.torch(G, D))
    rng = np.random.default_rng(0)
    sync = torch.cuda.synchronize if tdev == "cuda" else (lambda: None)
    z = torch.tensor(rng.standard_normal((batch, spec.z_dim)).astype(np.float32), device=tdev)
    with torch.no_grad():
        fake = tG(z)
    out_ms = []
    for net, x in ((tG, z), (tD, fake)):
        h = x
        for layer in net:
            inp = h.detach().requires_grad_(True)
            out = layer(inp)
            dy = torch.tensor(rng.standard_normal(tuple(out.shape)).astype(np.float32), device=tdev)
            fwd, bwd = [], []
            for _ in range(repeats + 1):
                sync()
                t = time.perf_counter()
                out = layer(inp)
                sync()
                fwd.append(time.perf_counter() - t)
                t = time.perf_counter()
                out.backward(dy)
                sync()
                bwd.append(time.perf_counter() - t)
            out_ms.append((1e3 * float(np.median(fwd[1:])), 1e3 * float(np.median(bwd[1:]))))
            h = out.detach()
    return out_ms


def layer_rows(batch, device, repeats, model="dcgan28", torch_too=True):
    """One row per layer: name, input/output shape, forward/backward ms, GFLOP/s, and
    PyTorch's forward/backward ms of the same layer (``torch_fwd_ms``, ``torch_bwd_ms``)."""
    spec = MODELS[model]
    mg.seed(0)
    G, D = spec.minigan()
    theirs = torch_layer_ms(model, G, D, batch, device, repeats) if torch_too else None
    G, D = G.to(device), D.to(device)
    rng = np.random.default_rng(0)
    z = mg.to_device(rng.standard_normal((batch, spec.z_dim)).astype(np.float32), device)
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
            if theirs:
                rows[-1]["torch_fwd_ms"], rows[-1]["torch_bwd_ms"] = theirs[len(rows) - 1]
            h = out
    total = sum(r["runs"] * (r["fwd_ms"] + r["bwd_ms"]) for r in rows)
    for r in rows:
        r["share"] = r["runs"] * (r["fwd_ms"] + r["bwd_ms"]) / total
    return rows, total


def format_table(rows, total, batch, device, model="dcgan28"):
    """The Markdown table of :func:`layer_rows`."""
    torch_cols = any("torch_fwd_ms" in r for r in rows)
    extra = " torch fwd ms | torch bwd ms |" if torch_cols else ""
    lines = [f"### {model}, {device}, batch {batch}: per-layer time (sum over one step ≈ {total:.0f} ms)", "",
             "| layer | input → output | fwd ms | bwd ms |" + extra
             + " fwd GFLOP/s | bwd GFLOP/s | × per step | share |",
             "|---|---|---|---|" + ("---|---|" if torch_cols else "") + "---|---|---|---|"]
    for r in rows:
        fg = f"{r['fwd_gflops']:.0f}" if r["fwd_gflops"] else ""
        bg = f"{r['bwd_gflops']:.0f}" if r["bwd_gflops"] else ""
        t = (f" {r['torch_fwd_ms']:.2f} | {r['torch_bwd_ms']:.2f} |" if "torch_fwd_ms" in r
             else (" | |" if torch_cols else ""))
        lines.append(f"| {r['layer']} | {r['in']} → {r['out']} | {r['fwd_ms']:.2f} | {r['bwd_ms']:.2f} |{t} {fg} | "
                     f"{bg} | {r['runs']} | {100 * r['share']:.1f}% |")
    return "\n".join(lines)


def main(argv=None):
    parser = OneLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", nargs="+", default=["dcgan28"], choices=sorted(MODELS))
    parser.add_argument("--batch", type=positive_int, nargs="+", default=None,
                        help="batch sizes (default: each model's own)")
    parser.add_argument("--repeats", type=positive_int, default=10)
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    parser.add_argument("--no-torch", action="store_true", help="minigan's layers only")
    parser.add_argument("--out", help="also write the tables to this Markdown file")
    args = parser.parse_args(argv)
    check_options(parser, args)
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    if "cuda" in devices and not mg.cuda_available():
        if args.device == "cuda":
            parser.error("--device cuda: no CUDA GPU with CuPy found")
        devices.remove("cuda")
    tables = []
    for model in args.model:
        for device in devices:
            for batch in args.batch or MODELS[model].batches:
                rows, total = layer_rows(batch, device, args.repeats, model, torch_too=not args.no_torch)
                tables.append(format_table(rows, total, batch, device, model))
                print("\n" + tables[-1])
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n\n".join(tables) + "\n")


if __name__ == "__main__":
    main()
