"""Running an example's training: build the models, resume if asked, train, export samples,
report — and the exit code.

Exit codes: 0 done; 2 bad arguments or unusable input (one line on stderr, no traceback;
failures.py has the one handler); 3 training stopped on a NaN/inf loss; 130 interrupted with
Ctrl-C, 143 stopped with SIGTERM, 129 with SIGHUP (after saving a checkpoint).
"""
import math
import os
import sys

from ..backend import seed as seed_minigan
from ..files.checkpoint import CheckpointError, read_meta
from ..gan.models import build_model
from ..gan.outputs import CHECKPOINT, LATEST_GRID, LOSSES_PNG, METRICS, PROGRESS_GIF
from ..distributed.together import AgreedFailure
from ..gan.stop import TrainingDiverged, TrainingInterrupted
from .failures import (EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_OK, UsageError, describe_os_error,
                       memory_advice, noted_options as ctx_options)
from .preflight import check_memory

MODEL_SIZE = ("--z-dim", "--width", "--image-size")       # options that size an example's models

__all__ = ["run_training", "build_models", "check_data_size", "format_seconds"]


def check_data_size(parser, batch_size, n, what="training samples"):
    """A batch must fit in the data: one line and exit code 2 otherwise."""
    if batch_size > n:
        parser.fail(f"--batch-size {batch_size} is larger than the {n:,} {what} (one batch needs "
                    f"that many; lower --batch-size or add data)")


def build_models(run_config, seed):
    """Seed minigan, then build (G, D) from the builder specs in ``run_config``; a UsageError if
    they, with their gradients and Adam's two moments, do not fit in this machine's memory."""
    seed_minigan(seed)
    try:
        G, D = build_model(run_config["generator"]), build_model(run_config["discriminator"])
    except MemoryError as e:
        raise UsageError(f"the models do not fit in memory ({e}): {memory_advice(MODEL_SIZE)}") from None
    except (ValueError, TypeError) as e:          # a builder's own check of its arguments
        raise UsageError(f"the models cannot be built from {run_config['generator']} and "
                         f"{run_config['discriminator']}: {e}") from None
    n = sum(p.data.size for m in (G, D) for p in m.parameters())
    sized_by = [o for o in MODEL_SIZE if o in ctx_options()]
    check_memory("the models' size" + (f" ({', '.join(sized_by)})" if sized_by else ""), 4 * 4 * n,
                 f"{n:,} parameters with their gradients and Adam's two moments")
    return G, D


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


def run_training(ctx, trainer, after=None, before=None):
    """Resume if asked, train, export samples, report. Returns the exit code.

    before: optional ``fn()`` run once every check has passed, just before training (the
    run's first write of its own, e.g. the training images it rendered); rank 0 only.

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
    if trainer.config.batch_size % ctx.parallel.size:       # every process fails here: together
        raise AgreedFailure(f"--data-parallel: the batch of {trainer.config.batch_size} cannot be "
                            f"split evenly over {ctx.parallel.size} processes (use a multiple of "
                            f"{ctx.parallel.size})", speaker=ctx.parallel.is_main)
    if ctx.parallel.size > 1:
        ctx.say(f"data-parallel: {ctx.parallel.size} processes, {trainer.config.batch_size // ctx.parallel.size} "
                f"of the {trainer.config.batch_size} samples of each batch each")
    target = trainer.target_steps()
    if "log_every" in args.given and trainer.step < target < trainer.config.log_every:
        raise AgreedFailure(f"--log-every {trainer.config.log_every} is larger than the run's "
                            f"{target} steps: no metrics row would be written (use at most "
                            f"{target})", speaker=ctx.parallel.is_main)
    ctx.say(f"training to step {target} ({trainer.steps_per_epoch} steps per epoch, "
            f"{trainer.config.epochs} epochs" + (f", --max-steps {trainer.config.max_steps}"
                                                   if trainer.config.max_steps else "") + ")")
    if before is not None and ctx.parallel.is_main:
        before()
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
