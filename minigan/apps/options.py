"""The examples' options: an argparse parser with one-line errors, the fixed options every
example takes, the training options the DCGAN examples share, and checked argument types.

Every example accepts (minigan's public contract fixes these):
    --epochs N  --max-steps N  --batch-size N  --device cpu|cuda|auto  --seed N  --out DIR
    --resume  --export-samples N
and, from here, --sample-every N, --checkpoint-every N, --log-every N, --quiet.
"""
import argparse
import math
import sys

from ..distributed.together import abort_others
from .failures import EXIT_USAGE, note_options

__all__ = ["ExampleParser", "common_parser", "add_training_options", "add_data_parallel_option",
           "label_ranges", "dcgan_fields", "positive_int", "nonneg_int", "positive_float", "probability",
           "float_pair"]


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
        note_options(self._option_string_actions)      # the options the memory advice may name
        # p.add's options default to None, so False there is an explicit --no-X; a plain
        # store_true's False is its default
        ns.given = {k for k, v in vars(ns).items()
                    if v is not None and (v is not False or k in self.example_defaults)}
        for k, v in self.example_defaults.items():
            if getattr(ns, k) is None:
                setattr(ns, k, v)
        return ns

    def fail(self, message):
        """Report a problem with the input (not the syntax) and exit with code 2 — in a
        data-parallel run ending every process (the others may be waiting for this one)."""
        self._print_message(f"{self.prog}: error: {message}\n", sys.stderr)
        abort_others(EXIT_USAGE)
        self.exit(EXIT_USAGE)


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


def dcgan_fields(args):
    """The TrainConfig fields of the DCGAN examples' shared options (losses, Adam, labels)."""
    real, fake = label_ranges(args)
    return dict(z_dim=args.z_dim, loss=args.loss, ema=args.ema, ema_statistics=args.ema_statistics,
                lr_g=args.lr_g, lr_d=args.lr_d,
                betas_g=(args.beta1, args.beta2), betas_d=(args.beta1, args.beta2),
                real_label=real, fake_label=fake, flip_prob=args.flip_prob)
