"""One full GAN training step: minigan (NumPy, CuPy) vs PyTorch (CPU, CUDA), as ratios.

``--model`` names the models to time (dcgan_models.MODELS, each a model an example trains:
``dcgan28``, the flagship's, the default; ``dcgan64``, the 64×64 RGB DCGAN of
examples/image_folder_dcgan.py). The step is the flagship's (examples/mnist_dcgan.py): G makes a
fake batch once; D runs on
a real batch and on the detached fake batch, gradients accumulating, and takes an Adam step;
then D scores the fake batch again and G takes its Adam step with the non-saturating loss.
That is the tutorial recipe the flagship ran until its defaults added spectral norm on D and
the average of G's weights (``--no-spectral-norm --ema 0``; the two cost ≈ 2% and < 1% of a
step, README's study section), so both engines run the same, oracle-tested step. Every engine
runs the same architecture from the same weights. Runs are interleaved
(A B A B ...) after a warm-up and reported as medians, with each engine's throughput as a
ratio to PyTorch on the same device measured in the same run. The CPU engines are interleaved
among themselves first and the GPU engines after: a GPU step is bound by the one host thread
that launches its kernels, and a CPU engine's BLAS threads, still spinning for a moment after
its step, slowed whichever GPU engine ran next (on the H100 machine minigan-cupy, run right after
minigan-numpy, took 12.8 ms where its variants run after GPU engines took 8–11 ms).

FLOPs are counted for the GEMM layers (2·multiply-adds, formulas in ``layer_flops``) over
the whole step, and compared with this machine's SGEMM rate measured in the same run. They
are the direct algorithm's: minigan's Winograd tiles (minigan/kernels/winograd.py) do 9/16 of
them in the 64×64 DCGAN's 4×4 stride-2 layers, so its rate there is an effective one (dcgan64
reads 75–90% of SGEMM, and more when the SGEMM measurement itself was slowed).

    python benchmarks/bench_step.py                 # dcgan28, batch 64 and 128, every backend present
    python benchmarks/bench_step.py --batch 128 --repeats 15 --no-memory
    python benchmarks/bench_step.py --model dcgan64 --batch 16 32 64 --engines minigan-numpy torch-cpu
Writes benchmarks/results/step_<model>_<machine>.json and .png (results are committed); a file
of that name that another machine wrote is never replaced without ``--save``: the run writes
beside it (``result_path``).
"""
import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if __name__ == "__main__":
    from blas_env import use_native_blas_kernels
    use_native_blas_kernels()   # before NumPy loads OpenBLAS: see blas_env.py

import numpy as np  # noqa: E402
import minigan as mg  # noqa: E402
from minigan import dispatch, nn  # noqa: E402
from minigan.kernels.workspace import Workspace  # noqa: E402
from bench_options import nonneg_int, positive_int, save_result  # noqa: E402
from dcgan_models import MODELS  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


# ----------------------------------------------------------------------------- FLOPs
def layer_flops(layer, in_shape, out_shape):
    """Forward FLOPs (2 per multiply-add) of one GEMM layer for a whole batch.

    Linear:          2·N·in·out
    Conv2d:          2·N·Cout·Ho·Wo·(Cin·kh·kw)       (every output pixel, padding included)
    ConvTranspose2d: 2·N·Cin·H·W·(Cout·kh·kw)         (every input pixel scatters a kernel)
    The weight gradient and the input gradient each cost the same again.
    """
    n = in_shape[0]
    if isinstance(layer, nn.Linear):
        return 2 * n * layer.in_features * layer.out_features
    if not isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
        return 0
    kh, kw = layer.kernel_size
    if isinstance(layer, nn.Conv2d):
        return 2 * n * layer.out_channels * out_shape[2] * out_shape[3] * layer.in_channels * kh * kw
    return 2 * n * layer.in_channels * in_shape[2] * in_shape[3] * layer.out_channels * kh * kw


def model_flops(model, x):
    """(forward FLOPs, FLOPs of the first GEMM layer) of a Sequential on input x."""
    total, first = 0, None
    h = x
    for layer in model:
        out = layer(h)
        f = layer_flops(layer, h.shape, out.shape)
        if f and first is None:
            first = f
        total += f
        h = out
    return total, first


def step_flops(G, D, batch, z_dim):
    """GEMM FLOPs of one GAN step: G forward once, D forward 3×, D backward 3× (weights
    always; input gradient only in the G step, except D's first layer when its input is data
    or detached), G backward (weights + inputs, except its first layer's input z)."""
    z = np.zeros((batch, z_dim), np.float32)
    g_fwd, g_first = model_flops(G, z)
    d_fwd, d_first = model_flops(D, G(z))
    d_backward = 3 * d_fwd + 2 * (d_fwd - d_first) + d_fwd  # dW ×3; dX: 2 without layer 1, 1 full
    g_backward = g_fwd + (g_fwd - g_first)
    return g_fwd + 3 * d_fwd + d_backward + g_backward


# ----------------------------------------------------------------------------- engines
class MiniganStep:
    """minigan's step; ``variant`` switches optimisations off to measure each one's effect."""

    VARIANTS = {  # name: (skip unneeded input gradients, reuse workspaces, fast path)
        "all": (True, True, True),
        "plain": (False, False, False),
        "+skip-input-grads": (True, False, False),
        "+reuse-buffers": (True, True, False),
    }
    # Issue 13's changes, each switched off alone from "all" (its "before", measured in the same
    # run as "all", its "after"): "-name" runs everything but that change.
    CHANGES = {
        "-conv-taps": "convolutions skip the padding's work (kernels/conv_taps.py)",
        "-frozen-d": "D frozen in G's backward: D's weight gradients, unused, are not computed",
        "-winograd": "4×4 stride-2 convolutions by Winograd tiles (kernels/winograd.py; dcgan64 only)",
    }
    # GPU: the fused CUDA kernels switched on one group at a time ("before" = none of them:
    # CuPy's own ops, as minigan ran on the GPU before they existed), to measure each group
    GPU_KERNELS = ("im2col", "col2im", "batchnorm", "bce_with_logits", "adam_many", "zero_many")
    GPU_STAGES = {
        "before": set(GPU_KERNELS),
        "+im2col/col2im": {"batchnorm", "bce_with_logits", "adam_many", "zero_many"},
        "+batchnorm": {"bce_with_logits", "adam_many", "zero_many"},
    }

    # GPU: the step reading each loss back as it is computed (a float, which waits for the GPU),
    # as minigan's step did before losses could stay on the device (``loss.evaluate``); and
    # the convolutions' products in TF32 (mg.backend.conv_tf32), PyTorch's default for them.
    READ_EACH_LOSS, TF32 = "item", "tf32"

    def __init__(self, G, D, device, batch, seed=0, variant="all", model=MODELS["dcgan28"]):
        self.name = f"minigan-{'numpy' if device == 'cpu' else 'cupy'}"
        if variant != "all":
            self.name += f" [{variant}]"
        self.read_each_loss = variant == self.READ_EACH_LOSS
        self.tf32 = variant == self.TF32
        self.kernels_off = set(self.GPU_STAGES.get(variant, ()))
        if variant in ("-conv-taps", "-winograd"):
            self.kernels_off.add(variant[1:].replace("-", "_"))
        self.freeze_d = variant not in ("plain", "+skip-input-grads", "+reuse-buffers", "-frozen-d")
        self.skip_input_grads, self.reuse, self.fast = self.VARIANTS.get(variant, self.VARIANTS["all"])
        self.device = device
        self.G, self.D = G.to(device), D.to(device)
        self.loss = nn.BCEWithLogitsLoss()
        self.opt_g = mg.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = mg.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        r = np.random.default_rng(seed)
        self.real = mg.to_device(np.tanh(r.standard_normal((batch, *model.image_shape))).astype(np.float32),
                                 device)
        self.z = mg.to_device(r.standard_normal((batch, model.z_dim)).astype(np.float32), device)
        self.ones = mg.to_device(np.ones((batch, 1), np.float32), device)
        self.zeros = mg.to_device(np.zeros((batch, 1), np.float32), device)

    def __call__(self):
        dispatch.ENABLED, Workspace.reuse, dispatch.DISABLED = self.fast, self.reuse, self.kernels_off
        mg.backend.conv_tf32 = self.tf32
        G, D, loss, need = self.G, self.D, self.loss, not self.skip_input_grads
        value = loss.forward if self.read_each_loss else loss.evaluate
        fake = G(self.z)
        self.opt_d.zero_grad()
        value(D(self.real), self.ones)
        D.backward(loss.backward(), need_input_grad=need)
        value(D(fake), self.zeros)
        D.backward(loss.backward(), need_input_grad=need)    # fake is detached for D's step
        self.opt_d.step()
        self.opt_g.zero_grad()
        value(D(fake), self.ones)                             # non-saturating G loss
        D.requires_grad_(not self.freeze_d)                   # as minigan's GAN step does
        G.backward(D.backward(loss.backward()), need_input_grad=need)
        D.requires_grad_(True)
        self.opt_g.step()
        self.sync()
        dispatch.ENABLED, Workspace.reuse, dispatch.DISABLED = True, True, set()
        mg.backend.conv_tf32 = False

    def sync(self):
        if self.device == "cuda":
            import cupy
            cupy.cuda.Device().synchronize()


class TorchStep:
    """PyTorch's step. On a GPU PyTorch runs convolutions through cuDNN with TF32 tensor-core
    math by default (torch.backends.cudnn.allow_tf32, 10-bit mantissas); minigan's GEMMs are
    full float32. Variant "no-tf32" runs PyTorch in full float32 too, for a like-for-like ratio.
    Variant "item" also reads the three losses every step (``.item()``), as a training loop
    that logs them does and as minigan's losses, which return Python floats, always do.
    Variant "frozen-d" freezes D (``requires_grad_(False)``) for G's backward, as minigan's
    step does; PyTorch's DCGAN recipe does not, so the main row does not either."""

    def __init__(self, G, D, device, batch, seed=0, variant="", model=MODELS["dcgan28"]):
        import torch
        self.torch = torch
        self.name = f"torch-{device}" + (f" [{variant}]" if variant else "")
        self.tf32 = variant != "no-tf32"
        self.read_losses = variant == "item"
        self.freeze_d = variant == "frozen-d"
        self.device = device
        tG, tD = model.torch(G, D)
        self.G, self.D = tG.to(device), tD.to(device)
        self.loss = torch.nn.BCEWithLogitsLoss()
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        r = np.random.default_rng(seed)
        self.real = torch.tensor(np.tanh(r.standard_normal((batch, *model.image_shape))).astype(np.float32),
                                 device=device)
        self.z = torch.tensor(r.standard_normal((batch, model.z_dim)).astype(np.float32), device=device)
        self.ones = torch.ones(batch, 1, device=device)
        self.zeros = torch.zeros(batch, 1, device=device)

    def __call__(self):
        G, D, loss = self.G, self.D, self.loss
        cudnn = self.torch.backends.cudnn
        default_tf32, cudnn.allow_tf32 = cudnn.allow_tf32, self.tf32
        fake = G(self.z)
        self.opt_d.zero_grad()
        losses = [loss(D(self.real), self.ones)]
        losses[-1].backward()
        losses.append(loss(D(fake.detach()), self.zeros))
        losses[-1].backward()
        self.opt_d.step()
        self.opt_g.zero_grad()
        self.D.requires_grad_(not self.freeze_d)             # before the forward: autograd decides there
        losses.append(loss(D(fake), self.ones))
        losses[-1].backward()
        self.D.requires_grad_(True)
        self.opt_g.step()
        if self.read_losses:
            [value.item() for value in losses]
        self.sync()
        cudnn.allow_tf32 = default_tf32

    def sync(self):
        if self.device == "cuda":
            self.torch.cuda.synchronize()


def available_engines():
    names = ["minigan-numpy"]
    if mg.cuda_available():
        names.append("minigan-cupy")
    try:
        import torch
        names.append("torch-cpu")
        if torch.cuda.is_available():
            names.append("torch-cuda")
    except ImportError:
        pass
    return names


def make_engine(name, batch, seed=0, model="dcgan28"):
    """An engine by name: "minigan-numpy", "minigan-cupy", "torch-cpu", "torch-cuda", or an
    ablation variant "minigan-numpy [plain]" etc. (see MiniganStep.VARIANTS), training
    ``model`` (a name of dcgan_models.MODELS)."""
    spec = MODELS[model]
    mg.seed(seed)
    G, D = spec.minigan()
    if name.startswith("minigan"):
        base, _, variant = name.partition(" [")
        return MiniganStep(G, D, "cpu" if base.endswith("numpy") else "cuda", batch, seed,
                           variant.rstrip("]") or "all", model=spec)
    base, _, variant = name.partition(" [")
    return TorchStep(G, D, base.split("-")[1], batch, seed, variant.rstrip("]"), model=spec)


# ----------------------------------------------------------------------------- measuring
def sgemm_gflops(device="cpu", n=2048, repeats=5):
    """This machine's SGEMM rate: a large float32 matmul into a reused output buffer."""
    xp = mg.backend.array_module_for(device)
    a = xp.asarray(np.random.default_rng(0).standard_normal((n, n)).astype(np.float32))
    out = xp.empty_like(a)
    times = []
    for _ in range(repeats + 1):
        t = time.perf_counter()
        xp.matmul(a, a, out=out)
        if device == "cuda":
            xp.cuda.Device().synchronize()
        times.append(time.perf_counter() - t)
    return 2 * n ** 3 / np.median(times[1:]) / 1e9


def engine_device(name):
    """'cpu' or 'cuda': where an engine computes."""
    return "cpu" if name.startswith(("minigan-numpy", "torch-cpu")) else "cuda"


def time_interleaved(engines, warmup, repeats, pause=0.05):
    """Median seconds per step of each engine, runs interleaved A B A B ..."""
    for e in engines:
        for _ in range(warmup):
            e()
    times = {e.name: [] for e in engines}
    for _ in range(repeats):
        for e in engines:
            time.sleep(pause)          # let the previous engine's worker threads go idle
            t = time.perf_counter()
            e()
            times[e.name].append(time.perf_counter() - t)
    return {name: float(np.median(ts)) for name, ts in times.items()}


def others_cpu():
    """A clock for the CPU time *other* processes use meanwhile (Linux): call it before and after
    a measurement; returns (machine busy seconds, this process's CPU seconds, wall seconds)."""
    try:
        with open("/proc/stat") as f:
            ticks = list(map(int, f.readline().split()[1:]))
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None
    t = os.times()
    return busy, t.user + t.system, time.time()


def others_percent(before, after):
    """% of one core that other processes used between two :func:`others_cpu` readings: on a
    shared 2-core machine a neighbour's job skews the medians (the engines' threads wait for
    cores), so results record it; above ~10% they are not a clean measurement."""
    if before is None or after is None:
        return None
    busy, own, wall = (b - a for a, b in zip(before, after))
    return max(0.0, 100 * (busy - own) / wall)


def current_rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def memory_probe(name, batch, model="dcgan28"):
    """Run in a child process: peak resident memory added by training steps (MB), and peak
    GPU memory for GPU engines."""
    engine = make_engine(name, batch, model=model)
    base = current_rss_mb()
    gpu_peak = None
    if name == "torch-cuda":
        engine.torch.cuda.reset_peak_memory_stats()
    for _ in range(3):
        engine()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if name == "torch-cuda":
        gpu_peak = engine.torch.cuda.max_memory_allocated() / 2 ** 20
    elif name == "minigan-cupy":
        import cupy
        gpu_peak = cupy.get_default_memory_pool().total_bytes() / 2 ** 20
    return {"rss_step_mb": max(peak - base, 0.0), "rss_base_mb": base, "gpu_mb": gpu_peak}


def measure_memory(name, batch, model="dcgan28"):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory-probe", name, str(batch), model],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine_name():
    cpu = platform.processor() or "cpu"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    name = f"{cpu} x{os.cpu_count()}"
    if mg.cuda_available():
        import cupy
        name += " + " + cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    return name


def slug(text):
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").lower().replace("--", "-")


# ----------------------------------------------------------------------------- options, files
class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr (``<prog>: error: ...``), exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def check_options(parser, args, engines_known=None):
    """Reject what the option types (bench_options.py) cannot see: a model named twice, an
    engine not available here. One line on stderr, exit status 2 (parser.error)."""
    if len(set(args.model)) != len(args.model):
        parser.error(f"--model {' '.join(args.model)}: a model named twice")
    if engines_known is not None and args.engines:
        engines_known = list(engines_known) + [f"{e} [{change}]" for e in engines_known
                                               if e.startswith("minigan") for change in MiniganStep.CHANGES]
        unknown = [e for e in args.engines if e not in engines_known]
        if unknown:
            parser.error(f"--engines {unknown[0]}: not available here (choose from {', '.join(engines_known)})")


def result_path(kind, model, machine, results=None, save=False):
    """Where a run's results go: ``<results>/<kind>_<model>_<machine slug>.json``.

    A file of that name already there, written on another machine (its "machine" differs, or
    it cannot be read), is never replaced silently: the run writes beside it
    (``..._<machine slug>.new.json``, then ``.new2``, ...) unless ``save`` (``--save``).
    The same machine's earlier result is replaced."""
    stem = os.path.join(results or RESULTS, f"{kind}_{model}_{slug(machine)}")
    path = stem + ".json"
    if save or not os.path.exists(path):
        return path
    try:
        with open(path) as f:
            if json.load(f).get("machine") == machine:
                return path
    except (OSError, ValueError, AttributeError):
        pass
    k = 1
    while os.path.exists(path):
        path = f"{stem}.new{k if k > 1 else ''}.json"
        k += 1
    return path


# ----------------------------------------------------------------------------- report
def main(argv=None):
    parser = OneLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", nargs="+", default=["dcgan28"], choices=sorted(MODELS),
                        help="the models to time: " + "; ".join(f"{m.name}: {m.about}, batches "
                                                                 f"{' '.join(map(str, m.batches))} by default"
                                                                 for m in MODELS.values()))
    parser.add_argument("--batch", type=positive_int, nargs="+", default=None,
                        help="batch sizes (default: each model's own, see --model)")
    parser.add_argument("--repeats", type=positive_int, default=9)
    parser.add_argument("--warmup", type=nonneg_int, default=2)
    parser.add_argument("--engines", nargs="+", default=None,
                        help="subset of " + ", ".join(available_engines()) + "; or minigan with one change "
                             "switched off, e.g. 'minigan-numpy [-winograd]' (" + ", ".join(MiniganStep.CHANGES) + ")")
    parser.add_argument("--ablation", action="store_true",
                        help="CPU only: minigan with its optimisations switched on one by one, and "
                             "with each of issue 13's changes switched off alone (" +
                             ", ".join(MiniganStep.CHANGES) + "), vs PyTorch")
    parser.add_argument("--gpu-stages", action="store_true",
                        help="GPU: also run minigan-cupy with its fused kernels switched on group by "
                             "group (" + ", ".join(MiniganStep.GPU_STAGES) + "), to measure each group, and "
                             "PyTorch with TF32 off (torch-cuda [no-tf32]) or reading its losses each "
                             "step (torch-cuda [item])")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory probes")
    parser.add_argument("--no-save", action="store_true", help="print only; write nothing")
    parser.add_argument("--save", action="store_true",
                        help="replace the results file of this model and machine even when another "
                             "machine wrote it (otherwise the run writes beside it)")
    parser.add_argument("--memory-probe", nargs=3, metavar=("ENGINE", "BATCH", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        print(json.dumps(memory_probe(args.memory_probe[0], int(args.memory_probe[1]), args.memory_probe[2])))
        return
    check_options(parser, args, available_engines())
    if args.save and args.no_save:
        parser.error("--save and --no-save: choose one")
    for model in args.model:
        run_model(args, model, argv)


def run_model(args, model, argv):
    spec = MODELS[model]
    batches = args.batch or list(spec.batches)
    names = args.engines or available_engines()
    if args.ablation:
        names = [f"minigan-numpy [{v}]" for v in ("plain", "+skip-input-grads", "+reuse-buffers",
                                                  *MiniganStep.CHANGES)]
        names += ["minigan-numpy"] + [n for n in available_engines() if n == "torch-cpu"]
        names += ["torch-cpu [frozen-d]"] if "torch-cpu" in names else []
    if args.gpu_stages and "minigan-cupy" in names:
        names += [f"minigan-cupy [{v}]" for v in (*MiniganStep.GPU_STAGES,
                                                  MiniganStep.READ_EACH_LOSS, MiniganStep.TF32)]
        if "torch-cuda" in names:
            names += ["torch-cuda [no-tf32]", "torch-cuda [item]"]
    machine = machine_name()
    gemm = {"cpu": sgemm_gflops("cpu")}
    if any(n.endswith(("cupy", "cuda")) for n in names):
        gemm["cuda"] = sgemm_gflops("cuda", n=8192)
    print(f"# {model} training step ({spec.about}) — {machine}")
    if _has_threadpoolctl():
        from threadpoolctl import threadpool_info
        print("BLAS: " + "; ".join(f"{b['internal_api']} {b.get('version')} {b.get('architecture')} kernels, "
                                   f"{b['num_threads']} threads" for b in threadpool_info() if b["user_api"] == "blas"))
    print("SGEMM rate measured now: " + ", ".join(f"{d} {g:.0f} GFLOP/s" for d, g in gemm.items()))
    rows = []
    for batch in batches:
        engines = [make_engine(n, batch, model=model) for n in names]
        G, D = spec.minigan()
        flops = step_flops(G, D, batch, spec.z_dim)
        clock = others_cpu()
        medians = {}
        for device in ("cpu", "cuda"):             # CPU engines first, then the GPU's: see below
            group = [e for e in engines if engine_device(e.name) == device]
            if group:
                medians.update(time_interleaved(group, args.warmup, args.repeats))
        others = others_percent(clock, others_cpu())
        if others is not None and others > 10:
            print(f"warning: other processes used {others:.0f}% of a core during batch {batch}: "
                  f"not a clean measurement", file=sys.stderr)
        for e in engines:
            device = engine_device(e.name)
            ref = "torch-cpu" if device == "cpu" else "torch-cuda"
            row = {"model": model, "engine": e.name, "device": device, "batch": batch,
                   "seconds": medians[e.name],
                   "images_per_s": batch / medians[e.name], "gflops": flops / medians[e.name] / 1e9,
                   "step_gflop": flops / 1e9, "others_cpu_percent": others}
            row["sgemm_fraction"] = row["gflops"] / gemm[device]
            if ref in medians:
                row["ratio_vs_torch"] = medians[ref] / medians[e.name]
            if not (args.no_memory or args.ablation):
                row.update(measure_memory(e.name, batch, model))
            rows.append(row)
        del engines
    for batch in batches:
        cpu_row = next((r for r in rows if r["engine"] == "minigan-numpy" and r["batch"] == batch), None)
        gpu_row = next((r for r in rows if r["engine"] == "minigan-cupy" and r["batch"] == batch), None)
        if cpu_row and gpu_row:
            gpu_row["speedup_vs_minigan_numpy"] = cpu_row["seconds"] / gpu_row["seconds"]

    print()
    print("| engine | batch | ms/step | images/s | × PyTorch (same device) | GFLOP/s | % of SGEMM "
          "| step RSS MB | GPU MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = f"{r['ratio_vs_torch']:.2f}×" if "ratio_vs_torch" in r else "–"
        rss = f"{r['rss_step_mb']:.0f}" if "rss_step_mb" in r else "–"
        gpu = f"{r['gpu_mb']:.0f}" if r.get("gpu_mb") is not None else "–"
        print(f"| {r['engine']} | {r['batch']} | {r['seconds'] * 1e3:.1f} | {r['images_per_s']:.0f} | {ratio} | "
              f"{r['gflops']:.0f} | {100 * r['sgemm_fraction']:.0f}% | {rss} | {gpu} |")
    print(f"\nstep = {rows[0]['step_gflop'] / rows[0]['batch']:.3f} GFLOP per image (GEMM layers)")
    if not (args.no_memory or args.ablation):
        for batch in batches:
            ours = next((r for r in rows if r["engine"] == "minigan-numpy" and r["batch"] == batch), None)
            theirs = next((r for r in rows if r["engine"] == "torch-cpu" and r["batch"] == batch), None)
            if ours and theirs:
                print(f"peak step memory, batch {batch}: minigan {ours['rss_step_mb']:.0f} MB vs PyTorch "
                      f"{theirs['rss_step_mb']:.0f} MB ({ours['rss_step_mb'] / max(theirs['rss_step_mb'], 1):.2f}×)")
    if args.no_save:
        return
    os.makedirs(RESULTS, exist_ok=True)
    path = result_path("ablation" if args.ablation else "step", model, machine, save=args.save)
    blas = __import__("threadpoolctl").threadpool_info() if _has_threadpoolctl() else []
    record = {"command": "python benchmarks/bench_step.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "model": model,
              "blas": [{k: b.get(k) for k in ("internal_api", "version", "architecture", "num_threads")} for b in blas],
              "machine": machine, "sgemm_gflops": gemm, "date": time.strftime("%Y-%m-%d"),
              "numpy": np.__version__, "rows": rows}
    try:
        import torch
        record["torch"] = torch.__version__
    except ImportError:
        pass
    print("\n" + save_result(path, json.dumps(record, indent=1)))
    png = path[:-len(".json")] + ".png"
    plot(rows, f"{model}, {machine}", png)
    print(f"wrote {png}")


def _has_threadpoolctl():
    try:
        import threadpoolctl  # noqa: F401
        return True
    except ImportError:
        return False


def plot(rows, machine, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    batches = sorted({r["batch"] for r in rows})
    engines = list(dict.fromkeys(r["engine"] for r in rows))
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(engines)
    for i, e in enumerate(engines):
        vals = [next((r["images_per_s"] for r in rows if r["engine"] == e and r["batch"] == b), 0) for b in batches]
        ax.bar(np.arange(len(batches)) + i * width, vals, width, label=e)
    ax.set_xticks(np.arange(len(batches)) + width * (len(engines) - 1) / 2, [f"batch {b}" for b in batches])
    ax.set_ylabel("images / s (higher is better)")
    ax.set_yscale("log" if any("cuda" in e or "cupy" in e for e in engines) else "linear")
    ax.set_title(f"GAN training step\n{machine}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
