"""Every figure caption and table on the docs pages that comes from a run, rendered from the
committed results in benchmarks/results/ — so a page cannot drift from its numbers.

    python benchmarks/render_tables.py            # rewrite the generated blocks of the pages
    python benchmarks/render_tables.py --check    # exit 1 (and show the diff) if a page differs

A page holds each generated block between two markers:

    <!-- render_tables: NAME -->
    ... (what RENDERERS[NAME] returns; do not edit by hand) ...
    <!-- /render_tables: NAME -->

To change a number, change (or re-measure) the result file and run this script; tests/
test_render_tables.py runs the check in CI.
"""
import argparse
import contextlib
import difflib
import io
import json
import os
import re
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
PAGES = ["README.md", "docs/evaluation.md", "docs/benchmarks.md", "docs/data-parallel.md"]
BLOCK = re.compile(r"(<!-- render_tables: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /render_tables: (?P=name) -->)",
                   re.S)


def load(results, name):
    with open(os.path.join(results, name), encoding="utf-8") as f:
        return json.load(f) if name.endswith(".json") else f.read()


def minutes(seconds):
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def wrap(text):
    """A paragraph in lines of at most 100 characters (code spans may break: Markdown joins them)."""
    return textwrap.fill(text, 100, break_long_words=False, break_on_hyphens=False) + "\n"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]) + "\n"


# ----------------------------------------------------------------------------- the renderers
def flagship_caption(results):
    r = load(results, "flagship_samples_amd-epyc-x2.json")
    last = r["last_epoch"]
    return wrap(f"*The flagship after {r['epochs']} epochs on {r['data']} (left) and its fixed-noise "
                f"grid at every epoch (right): a real run of `{r['command_then']}` on {r['machine']} "
                f"on {r['date']} with that day's defaults ({r['settings'].split(' (')[0]}; today's "
                f"defaults differ, and `{r['command_now']}` is that run); "
                f"{minutes(r['train_seconds'])} of training; its last epoch line: classes "
                f"{last['classes']}, fd {last['fd']} on its {last['samples']} fixed-noise samples.*")


def evaluation(results):
    r = load(results, "flagship_eval_amd-epyc-x2.json")
    intro = wrap(f"Measured on {r['machine']} with {r['data']} and the standard network: "
                 f"`{r['command_then']}` on {r['date']}, with {r['settings']} — today "
                 f"`{r['command_now']}` (run again on {r['rerun']}):") + "\n"
    rows = [[e, f"**{c}**" if c == 10 and all(x[1] < 10 for x in r["rows"] if x[0] < e) else c,
             f"{kl:.3f}", f"{conf:.3f}", f"{fd:g}", f"{inc:.2f}"] for e, c, kl, conf, fd, inc in r["rows"]]
    c, kl, conf, fd, inc = r["real"]["row"]
    rows.append([r["real"]["label"], c, f"{kl:.3f}", f"{conf:.3f}", f"{fd:g}", f"{inc:.2f}"])
    return intro + table(["epoch", "classes", "KL", "confidence", "Fréchet distance", "inception score"],
                         rows) + "\n" + wrap(r["note"])


def study(results):
    sys.path.insert(0, HERE)
    import gan_quality_study
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        gan_quality_study.report([os.path.join(results, "gan_quality_amd-epyc-x2.csv"),
                                  os.path.join(results, "gan_quality_averages_amd-epyc-x2.csv")], [10, 25])
    return out.getvalue()


def step_cpu(results, model="dcgan28"):
    """The CPU step table of ``model`` (bench_step.py --model): the saved run's times and the
    ratios of the three runs in step_runs_<model>_<machine>.json, the last of which is the
    saved run's."""
    r = load(results, f"step_{model}_amd-epyc-x2.json")
    runs = load(results, f"step_runs_{model}_amd-epyc-x2.json")
    rows = []
    for row in r["rows"]:
        mine = row["engine"] == "minigan-numpy"
        ratios = runs["ratio_vs_torch"][str(row["batch"])]
        if mine and round(row["ratio_vs_torch"], 2) != ratios[-1]:
            raise ValueError(f"step_runs: the last run's ratio at batch {row['batch']} is not "
                             f"{r['command']}'s saved one ({row['ratio_vs_torch']:.2f})")
        rows.append([row["engine"], row["batch"], f"{1000 * row['seconds']:.0f}", f"{row['images_per_s']:.0f}",
                     "**" + " / ".join(f"{x:.2f}×" for x in ratios) + "**" if mine else "1.00×"])
    return table(["engine", "batch", "ms/step (last run)", "images/s",
                  "× PyTorch, runs " + " / ".join(str(i + 1) for i in range(len(ratios)))], rows)


def step_cpu_dcgan64(results):
    return step_cpu(results, "dcgan64")


ABLATION = [("minigan-numpy [plain]", "plain NumPy (batch-last layout, im2col GEMMs)"),
            ("minigan-numpy [+skip-input-grads]",
             "+ skip input gradients nobody needs (first layer of D on data / detached fakes, of G on z)"),
            ("minigan-numpy [+reuse-buffers]", "+ reuse the big GEMM/im2col buffers (no page faults every step)"),
            ("minigan-numpy", "all: + numba kernels (fused LeakyReLU, BatchNorm summing in vector lanes, Adam, "
             "parallel im2col/col2im), Philox Dropout masks made in the kernel, convolutions without the "
             "padding's work where it pays, D frozen in G's step"),
            ("minigan-numpy [-conv-taps]", "all but the padding-free convolutions (`-conv-taps`)"),
            ("minigan-numpy [-philox-dropout]", "all but the Philox Dropout masks (`-philox-dropout`)"),
            ("minigan-numpy [-frozen-d]",
             "all but D frozen in G's step (`-frozen-d`: D's unused weight gradients computed)"),
            ("torch-cpu [frozen-d]",
             "PyTorch with D frozen too (`torch-cpu [frozen-d]`, `requires_grad_(False)` before G's pass)")]


def ablation(results):
    r = load(results, "ablation_dcgan28_amd-epyc-x2.json")
    ratio = {(row["engine"], row["batch"]): row["ratio_vs_torch"] for row in r["rows"]}
    return table(["minigan variant", "batch 64 × PyTorch", "batch 128 × PyTorch"],
                 [[label, f"{ratio[e, 64]:.2f}×", f"{ratio[e, 128]:.2f}×"] for e, label in ABLATION])


def data_parallel(results):
    text = load(results, "data_parallel_amd-epyc-x2.md")
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and "process" in cells[0]:
            name = cells[0].replace(" (all cores)", "")
            share = "—" if cells[4] == "0.0%" else cells[4]
            rows.append([name, f"{float(cells[1]):.0f}", cells[2], cells[3], share])
    return table(["configuration", "step ms", "images/s", "vs one process on all cores", "allreduce share"], rows)


GPU = [("minigan-numpy", "minigan-numpy (16 cores)"), ("torch-cpu", "torch-cpu"),
       ("minigan-cupy", "**minigan-cupy** (float32)"),
       ("minigan-cupy [tf32]", "minigan-cupy, convolutions in TF32 (`mg.backend.conv_tf32 = True`)"),
       ("minigan-cupy [item]", "minigan-cupy, reading each loss as a float when it is computed"),
       ("torch-cuda", "torch-cuda (cuDNN convolutions in TF32, PyTorch's default)"),
       ("torch-cuda [no-tf32]", "torch-cuda, TF32 off (full float32, like minigan)"),
       ("torch-cuda [item]", "torch-cuda, reading its three losses every step (`.item()`)")]


def step_gpu(results):
    r = load(results, "step_dcgan28_intel-r-xeon-r-processor-x16--nvidia-h100-80gb-hbm3.json")
    by = {(row["engine"], row["batch"]): row for row in r["rows"]}
    batches = sorted({row["batch"] for row in r["rows"]})
    rows = [[label] + [(f"**{1000 * by[e, b]['seconds']:.1f}**" if e == "minigan-cupy"
                        else f"{1000 * by[e, b]['seconds']:.1f}") for b in batches] for e, label in GPU]
    rows.append(["minigan-cupy × minigan-numpy"] +
                [f"{by['minigan-cupy', b]['speedup_vs_minigan_numpy']:.0f}×" for b in batches])
    return table(["engine"] + [f"batch {b}" for b in batches], rows)


def gpu_fusion(results):
    r = load(results, "gpu_fusion_nvidia-h100-80gb-hbm3.json")
    return table(["minigan-cupy"] + [f"batch {b}" for b in r["batches"]],
                 [[label] + [f"{ms} ms ({x:.2f}×)" for ms, x in cells] for label, *cells in r["rows"]])


RENDERERS = {"flagship-caption": flagship_caption, "evaluation": evaluation, "study": study,
             "step-cpu": step_cpu, "step-cpu-dcgan64": step_cpu_dcgan64, "ablation": ablation,
             "data-parallel": data_parallel,
             "step-gpu": step_gpu, "gpu-fusion": gpu_fusion}


# ----------------------------------------------------------------------------- pages
def render_page(text, results=RESULTS):
    """``text`` with every generated block rendered anew; a ValueError for an unknown block."""
    def block(m):
        name = m.group("name")
        if name not in RENDERERS:
            raise ValueError(f"unknown generated block {name!r} (known: {', '.join(RENDERERS)})")
        return m.group(1) + RENDERERS[name](results) + m.group(4)
    return BLOCK.sub(block, text)


def stale_pages(root=ROOT, results=RESULTS, pages=PAGES):
    """{page: unified diff} of the pages whose generated blocks differ from a fresh rendering."""
    stale = {}
    for page in pages:
        with open(os.path.join(root, page), encoding="utf-8") as f:
            text = f.read()
        fresh = render_page(text, results)
        if fresh != text:
            stale[page] = "".join(difflib.unified_diff(text.splitlines(True), fresh.splitlines(True),
                                                       f"{page} (committed)", f"{page} (rendered)"))
    return stale


def blocks_used(root=ROOT, pages=PAGES):
    names = []
    for page in pages:
        with open(os.path.join(root, page), encoding="utf-8") as f:
            names += [m.group("name") for m in BLOCK.finditer(f.read())]
    return names


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if a page is stale")
    p.add_argument("--results", default=RESULTS, help="the results folder (default: %(default)s)")
    args = p.parse_args(argv)
    stale = stale_pages(results=args.results)
    if args.check:
        for page, diff in stale.items():
            print(f"{page} differs from what benchmarks/render_tables.py renders from benchmarks/results/:\n"
                  f"{diff}", file=sys.stderr)
        if stale:
            print("run: python benchmarks/render_tables.py", file=sys.stderr)
        return 1 if stale else 0
    for page in stale:
        path = os.path.join(ROOT, page)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(render_page(text, args.results))
        print(f"rewrote {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
