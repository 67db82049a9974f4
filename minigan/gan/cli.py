"""The examples' shared command line, device choice, output folder, resume and exit codes.

Every example accepts (minigan's public contract fixes these):
    --epochs N  --max-steps N  --batch-size N  --device cpu|cuda|auto  --seed N  --out DIR
    --resume  --export-samples N
and, from here, --sample-every N, --checkpoint-every N, --log-every N, --quiet.

Exit codes: 0 done; 2 bad arguments or unusable input (one line on stderr, no traceback;
failures.py has the one handler); 3 training stopped on a NaN/inf loss; 130 interrupted with
Ctrl-C, 143 stopped with SIGTERM (after saving a checkpoint).

Everything an example is given (options, data, checkpoint, output folder) is checked before
anything is written into the output folder.
"""
import argparse
import math
import os
import sys
from dataclasses import dataclass, field

from ..backend import cuda_available
from ..backend import seed as seed_minigan
from ..distributed.data_parallel import DataParallel, SingleProcess
from .checkpoint import CheckpointError, read_meta
from .failures import (EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError, command_line,
                       describe_os_error)
from .models import build_model
from .preflight import check_memory, check_output_folder
from .run_state import check_trainer_meta
from .trainer import (CHECKPOINT, LATEST_GRID, LOSSES_PNG, METRICS, PROGRESS_GIF, TrainConfig,
                      TrainingDiverged, TrainingInterrupted)

__all__ = ["ExampleParser", "common_parser", "add_training_options", "add_data_parallel_option", "label_ranges",
           "positive_int", "nonneg_int", "positive_float", "begin", "build_models",
           "dcgan_fields", "probability", "float_pair", "resolve_device", "RunContext",
           "start_run", "train_config", "run_training", "check_data_size", "check_memory",
           "check_output_folder", "command_line", "UsageError", "EXIT_OK", "EXIT_USAGE",
           "EXIT_DIVERGED", "EXIT_INTERRUPTED"]

# flags that may change when resuming; everything else comes from the checkpoint
RESUMABLE = {"epochs", "max_steps", "sample_every", "checkpoint_every", "log_every", "device",
             "out", "resume", "quiet", "export_samples", "data_dir", "no_download", "data_parallel"}


class ExampleParser(argparse.ArgumentParser):
    """argparse with one-line errors (``prog: error: ...``, exit code 2) and a record of
    which options the user gave explicitly (``args.given``), so defaults can come from a
    checkpoint when resuming."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.example_defaults = {}

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")

    def add(self, *flags, default=None, group=None, **kw):
        """add_argument (to ``group`` if given) whose default is filled in after parsing (so
        ``given`` is exact)."""
        action = (group or self).add_argument(*flags, default=None, **kw)
        self.example_defaults[action.dest] = default
        if default is not None and "help" in kw and kw["help"] is not argparse.SUPPRESS:
            action.help = kw["help"] + f" (default: {default})"
        return action

    def parse_args(self, args=None, namespace=None):
        ns = super().parse_args(args, namespace)
        # p.add's options default to None, so False there is an explicit --no-X; a plain
        # store_true's False is its default
        ns.given = {k for k, v in vars(ns).items()
                    if v is not None and (v is not False or k in self.example_defaults)}
        for k, v in self.example_defaults.items():
            if getattr(ns, k) is None:
                setattr(ns, k, v)
        return ns

    def fail(self, message):
        """Report a problem with the input (not the syntax) and exit with code 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


# ----------------------------------------------------------------------------- argument types
def _checked_number(convert, is_valid, what, name):
    """An argparse ``type``: ``convert`` the text, then require ``is_valid`` (one clear line if not)."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not is_valid(value):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return value
    parse.__name__ = name
    return parse


positive_int = _checked_number(int, lambda v: v >= 1, "a positive integer", "positive_int")
nonneg_int = _checked_number(int, lambda v: v >= 0, "an integer >= 0", "nonneg_int")
positive_float = _checked_number(float, lambda v: 0 < v < float("inf"), "a positive finite number",
                                 "positive_float")
ema_decay = _checked_number(float, lambda v: 0 <= v < 1, "a number in [0, 1) (0: off)", "ema_decay")
adam_beta = _checked_number(float, lambda v: 0 <= v < 1, "a number in [0, 1)", "adam_beta")


def probability(s):
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {s!r}") from None
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {v}")
    return v


def float_pair(s):
    """'0.9,1.1' -> (0.9, 1.1)."""
    try:
        a, b = (float(x) for x in s.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two numbers 'LOW,HIGH', got {s!r}") from None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise argparse.ArgumentTypeError(f"expected two finite numbers 'LOW,HIGH', got {s!r}")
    if a > b:
        raise argparse.ArgumentTypeError(f"LOW must not exceed HIGH, got {s!r}")
    return (a, b)


def common_parser(description, *, epochs, batch_size, out, seed=0, sample_every=0, log_every=1,
                  checkpoint_every=0):
    """The fixed command line of every example, with that example's defaults."""
    p = ExampleParser(description=description)
    g = p.add_argument_group("common options")
    p.add("--epochs", group=g, type=positive_int, default=epochs, metavar="N",
          help="total number of epochs to train")
    p.add("--max-steps", group=g, type=positive_int, metavar="N",
          help="stop after this many steps in total (counting steps before a resume)")
    p.add("--batch-size", group=g, type=positive_int, default=batch_size, metavar="N",
          help="samples per batch")
    p.add("--device", group=g, choices=["cpu", "cuda", "auto"], default="auto",
          help="cpu (NumPy), cuda (CuPy) or auto: cuda when a GPU is there")
    p.add("--seed", group=g, type=nonneg_int, default=seed, metavar="N", help="random seed (>= 0)")
    p.add("--out", group=g, default=out, metavar="DIR",
          help="folder for images, plots, metrics and the checkpoint")
    g.add_argument("--resume", action="store_true",
                   help="continue the run whose checkpoint is in --out (its settings are kept; "
                        "--epochs and --max-steps may be raised)")
    p.add("--export-samples", group=g, type=nonneg_int, default=0, metavar="N",
          help="after training, write N samples of the generator to OUT/samples.npy "
               "(float32, (N, C, H, W), in the generator's output range)")
    p.add("--sample-every", group=g, type=nonneg_int, default=sample_every, metavar="N",
          help="also save a sample grid every N steps; 0: only at epoch ends")
    p.add("--checkpoint-every", group=g, type=nonneg_int, default=checkpoint_every, metavar="N",
          help="also save the checkpoint every N steps; 0: at epoch ends and at the end")
    p.add("--log-every", group=g, type=positive_int, default=log_every, metavar="N",
          help="steps per row of metrics.csv")
    g.add_argument("--quiet", action="store_true", help="no progress bar or step lines")
    return p


def add_data_parallel_option(p):
    """--data-parallel: train over the processes started by mpirun (minigan.distributed)."""
    p.add("--data-parallel", action="store_true",
          help="train over the processes started by mpirun, each on its share of every batch "
               "(needs pip install -e '.[mpi]'; e.g. mpirun -n 2 python examples/mnist_dcgan.py "
               "--data-parallel); the results do not depend on the number of processes")


def data_parallel(parser, args, device):
    """SingleProcess, or DataParallel over mpirun's processes with --data-parallel (CPU only)."""
    if not getattr(args, "data_parallel", False):
        return SingleProcess()
    if device != "cpu":
        parser.fail("--data-parallel: training over processes runs on the CPU (--device cpu)")
    try:
        return DataParallel()
    except RuntimeError as e:
        parser.fail(f"--data-parallel: {e}")


def add_training_options(p, *, lr_g, lr_d, betas=(0.5, 0.999), smoothing=False, flip_prob=0.0,
                         ema=0.0, ema_statistics=0, spectral_norm=False):
    """--lr-g, --lr-d, --beta1, --beta2, --label-smoothing, --real-label, --fake-label,
    --flip-prob, --loss, --ema, --ema-statistics and --spectral-norm with this example's defaults.
    :func:`label_ranges` turns them into targets."""
    p.add("--lr-g", type=positive_float, default=lr_g, metavar="LR", help="generator learning rate")
    p.add("--lr-d", type=positive_float, default=lr_d, metavar="LR",
          help="discriminator learning rate")
    p.add("--beta1", type=adam_beta, default=betas[0], help="Adam beta1 for G and D, in [0, 1)")
    p.add("--beta2", type=adam_beta, default=betas[1], help="Adam beta2 for G and D, in [0, 1)")
    p.add("--label-smoothing", action="store_true",
          help="soft targets for D: real ~ U[0.9, 1.1], fake ~ U[0, 0.2] per sample"
               + (" (on by default here)" if smoothing else ""))
    p.add("--real-label", type=float_pair, metavar="LOW,HIGH",
          help="D's targets for real images, drawn uniformly from [LOW, HIGH] "
               "(1,1: hard labels; overrides --label-smoothing)")
    p.add("--fake-label", type=float_pair, metavar="LOW,HIGH",
          help="D's targets for generated images (0,0: hard labels)")
    p.add("--flip-prob", type=probability, default=flip_prob, metavar="P",
          help="chance per sample that D's real and fake targets are swapped")
    p.add("--loss", choices=["bce_logits", "hinge"], default="bce_logits",
          help="bce_logits: cross-entropy on D's logits, non-saturating G loss; hinge: D's "
               "max(0, 1 ∓ score), G's −score (Lim & Ye 2017, Miyato et al. 2018)")
    p.add("--ema", type=ema_decay, default=ema, metavar="DECAY",
          help="sample from an average of G's weights, θ_avg ← DECAY·θ_avg + (1 − DECAY)·θ after "
               "every step (with a warm-up; e.g. 0.999); 0: off")
    p.add("--ema-statistics", type=nonneg_int, default=ema_statistics, metavar="N",
          help="before the average samples, recompute its BatchNorm statistics from N noise "
               "samples (standing statistics); 0: use G's (one process only)")
    p.add("--spectral-norm", action=argparse.BooleanOptionalAction, default=spectral_norm,
          help="divide each of D's weights by its largest singular value (Miyato et al. 2018)")
    p.example_defaults["label_smoothing"] = smoothing


SMOOTH_REAL, SMOOTH_FAKE = (0.9, 1.1), (0.0, 0.2)


def label_ranges(args):
    """(real_label, fake_label) target ranges from the options of :func:`add_training_options`."""
    real = SMOOTH_REAL if args.label_smoothing else (1.0, 1.0)
    fake = SMOOTH_FAKE if args.label_smoothing else (0.0, 0.0)
    return (args.real_label or real), (args.fake_label or fake)


def resolve_device(parser, name):
    """'cpu' or 'cuda' for --device; exits with code 2 when cuda is asked for but absent."""
    if name == "auto":
        return "cuda" if cuda_available() else "cpu"
    if name == "cuda" and not cuda_available():
        parser.fail("--device cuda: no CUDA GPU with CuPy was found (pip install -e '.[gpu-cuda12]' "
                    "or '.[gpu-cuda13]' on a machine with an NVIDIA GPU, or use --device cpu)")
    return name


# ----------------------------------------------------------------------------- a run
@dataclass
class RunContext:
    """What an example needs to set up a run: the parsed args, device, output folder and,
    when resuming, the checkpoint's saved configuration."""
    parser: ExampleParser
    args: argparse.Namespace
    example: str
    device: str
    out: str
    saved_config: dict = None
    saved_meta: dict = None
    notes: list = field(default_factory=list)
    parallel: object = field(default_factory=SingleProcess)

    @property
    def resume(self):
        return self.saved_config is not None

    @property
    def checkpoint(self):
        return os.path.join(self.out, CHECKPOINT)

    def say(self, msg):
        if self.parallel.is_main:                   # data-parallel: rank 0 speaks for all
            print(msg, flush=True)


def start_run(parser, args, example, resumable=()):
    """Validate the device and output folder; with --resume, read the checkpoint's config.
    ``resumable``: this example's own options that still apply when resuming (e.g. where the
    data are); any other option given with --resume is reported as ignored."""
    device = resolve_device(parser, "cpu" if getattr(args, "data_parallel", False) and args.device == "auto"
                            else args.device)
    parallel = data_parallel(parser, args, device)
    out = args.out
    problem = check_output_folder(out)
    if problem:
        parser.fail(f"--out {out}: {problem}")
    ctx = RunContext(parser, args, example, device, out, parallel=parallel)
    ckpt = ctx.checkpoint
    if args.resume:
        if not os.path.isfile(ckpt):
            parser.fail(f"--resume: no checkpoint in {out} (expected {ckpt}); run without "
                        f"--resume first")
        try:
            meta = read_meta(ckpt)
            check_trainer_meta(meta, ckpt)
        except (CheckpointError, OSError) as e:
            parser.fail(f"--resume: {e}")
        config = meta["config"]
        if config.get("example") != example:
            written_by = (f"{config['example']}" if config.get("example") else
                          "a GANTrainer in a script, not by an example (resume it with "
                          "GANTrainer.load_checkpoint in that script)")
            parser.fail(f"--resume: {ckpt} was written by {written_by}, not {example}")
        ctx.saved_config, ctx.saved_meta = config, meta
        ignored = sorted(args.given - RESUMABLE - set(resumable))
        if ignored:
            ctx.notes.append("note: resuming keeps the checkpoint's settings; ignored: "
                             + ", ".join("--" + k.replace("_", "-") for k in ignored))
    elif os.path.isfile(ckpt):
        try:
            step = read_meta(ckpt).get("step")
            ctx.notes.append(f"note: starting a new run in {out}: its checkpoint (step {step}) "
                             f"will be replaced (use --resume to continue it instead)")
        except CheckpointError:
            pass
    return ctx


def check_data_size(parser, batch_size, n, what="training samples"):
    """A batch must fit in the data: one line and exit code 2 otherwise."""
    if batch_size > n:
        parser.fail(f"--batch-size {batch_size} is larger than the {n:,} {what} (one batch needs "
                    f"that many; lower --batch-size or add data)")


COMMON_FIELDS = ("batch_size", "epochs", "max_steps", "seed", "sample_every", "checkpoint_every",
                 "log_every")


def begin(parser, argv, example, resumable=()):
    """Parse ``argv``, start the run (:func:`start_run`) and say where it goes: (args, ctx)."""
    args = parser.parse_args(argv)
    ctx = start_run(parser, args, example, resumable=resumable)
    ctx.say(f"minigan {example}: device {ctx.device}, output in {ctx.out}")
    return args, ctx


def build_models(run_config, seed):
    """Seed minigan, then build (G, D) from the builder specs in ``run_config``; a UsageError if
    they, with their gradients and Adam's two moments, do not fit in this machine's memory."""
    seed_minigan(seed)
    try:
        G, D = build_model(run_config["generator"]), build_model(run_config["discriminator"])
    except MemoryError as e:
        raise UsageError(f"the models do not fit in memory ({e}): lower --z-dim or the model's "
                         f"width") from None
    n = sum(p.data.size for m in (G, D) for p in m.parameters())
    check_memory("the models' size (--z-dim, --width, ...)", 4 * 4 * n,
                 f"{n:,} parameters with their gradients and Adam's two moments")
    return G, D


def dcgan_fields(args):
    """The TrainConfig fields of the DCGAN examples' shared options (losses, Adam, labels)."""
    real, fake = label_ranges(args)
    return dict(z_dim=args.z_dim, loss=args.loss, ema=args.ema, ema_statistics=args.ema_statistics,
                lr_g=args.lr_g, lr_d=args.lr_d,
                betas_g=(args.beta1, args.beta2), betas_d=(args.beta1, args.beta2),
                real_label=real, fake_label=fake, flip_prob=args.flip_prob)


def train_config(ctx, **fields):
    """The TrainConfig of this run. A new run: the common command-line options (batch size,
    epochs, max steps, seed, sampling/checkpoint/log intervals) plus this example's ``fields``.
    Resuming: the checkpoint's config, with --epochs, --sample-every, --checkpoint-every and
    --log-every taken from the command line when given. --max-steps belongs to one invocation:
    a resumed run without it trains to the end of --epochs."""
    args = ctx.args
    if not ctx.resume:
        common = {name: getattr(args, name) for name in COMMON_FIELDS}
        return TrainConfig(**dict(common, **fields))
    cfg = TrainConfig.from_dict(ctx.saved_config["train"])
    cfg.max_steps = args.max_steps
    for name in ("epochs", "sample_every", "checkpoint_every", "log_every"):
        if name in args.given:
            setattr(cfg, name, getattr(args, name))
    return cfg


def format_seconds(s):
    """12.3 s, 4 min 05 s, 1 h 02 min."""
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(int(round(s)), 60)
    if m < 60:
        return f"{m} min {sec:02d} s"
    return f"{m // 60} h {m % 60:02d} min"


def _where_to_continue(ctx):
    """Which step the checkpoint on disk holds (it may be older than the trainer's step)."""
    try:
        step = read_meta(ctx.checkpoint)["step"]
    except (CheckpointError, OSError, KeyError):
        return "no checkpoint was saved"
    return f"the checkpoint holds step {step}: continue from there with --resume --out {ctx.out}"


def run_training(ctx, trainer, after=None):
    """Resume if asked, train, export samples, report. Returns the exit code.

    after: optional ``fn(trainer)`` run after training (extra plots, a latent walk); it may
    return a list of paths to report.
    """
    args = ctx.args
    for note in ctx.notes:
        ctx.say(note)
    if ctx.resume:
        try:
            meta = trainer.load_checkpoint(ctx.checkpoint)
        except (ValueError, KeyError, CheckpointError) as e:
            ctx.parser.fail(f"--resume: {e}")
        ctx.say(f"resuming from {ctx.checkpoint}: step {meta['step']} (epoch "
                f"{meta['step'] / meta['steps_per_epoch']:.2f})")
    if args.export_samples:
        per_sample = 4 * math.prod(trainer.image_shape or (trainer.config.z_dim,))
        check_memory("--export-samples", 2 * args.export_samples * per_sample,
                     f"{args.export_samples:,} samples of {per_sample:,} bytes (twice: made, then saved)")
    if trainer.config.batch_size % ctx.parallel.size:
        ctx.parser.fail(f"--data-parallel: the batch of {trainer.config.batch_size} cannot be split "
                        f"evenly over {ctx.parallel.size} processes (use a multiple of {ctx.parallel.size})")
    if ctx.parallel.size > 1:
        ctx.say(f"data-parallel: {ctx.parallel.size} processes, {trainer.config.batch_size // ctx.parallel.size} "
                f"of the {trainer.config.batch_size} samples of each batch each")
    target = trainer.target_steps()
    ctx.say(f"training to step {target} ({trainer.steps_per_epoch} steps per epoch, "
            f"{trainer.config.epochs} epochs" + (f", --max-steps {trainer.config.max_steps}"
                                                   if trainer.config.max_steps else "") + ")")
    try:
        summary = trainer.fit()
    except TrainingDiverged as e:
        options = [o for o in ("--lr-g", "--lr-d", "--lr") if o in ctx.parser._option_string_actions]
        hint = f" ({', '.join(options)})." if options and str(e).endswith(".") else ""
        if ctx.parallel.is_main:
            print(f"{ctx.parser.prog}: error: {str(e)[:-1] + hint if hint else e}", file=sys.stderr,
                  flush=True)
        return EXIT_DIVERGED
    except KeyboardInterrupt as e:
        if ctx.parallel.is_main:
            print(f"{ctx.parser.prog}: interrupted at step {trainer.step}; {_where_to_continue(ctx)}",
                  file=sys.stderr, flush=True)
        return 128 + e.signum if isinstance(e, TrainingInterrupted) else EXIT_INTERRUPTED
    except OSError as e:              # disk full, permissions changed, ... while training
        raise UsageError(f"{describe_os_error(e)}; {_where_to_continue(ctx)}") from e
    written = [os.path.join(ctx.out, n) for n in (METRICS, LOSSES_PNG, LATEST_GRID, PROGRESS_GIF,
                                                  CHECKPOINT)]
    if not ctx.parallel.is_main:                    # the files are rank 0's
        return EXIT_OK
    if args.export_samples:
        written.append(trainer.export_samples(args.export_samples))
    if after is not None:
        written += list(after(trainer) or [])
    ctx.say(f"done: step {summary['step']} (epoch {summary['epoch']:.2f}), "
            f"{format_seconds(summary['elapsed'])} of training in all")
    files = [p for p in written if p and os.path.exists(p)]
    if files:
        ctx.say("wrote: " + ", ".join(files))
    return EXIT_OK
