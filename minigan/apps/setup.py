"""Starting a run of an example: the device, the output folder, the processes, and — with
--resume — the checkpoint whose settings the run keeps (only the options in :data:`RESUMABLE`
and an example's own ``resumable`` ones may change)."""
import argparse
import os
from dataclasses import dataclass, field

from ..backend import cuda_available
from ..distributed.data_parallel import DataParallel, SingleProcess
from ..files.checkpoint import CheckpointError, read_meta
from ..files.lock import FolderLock, FolderLocked
from ..gan.checkpointer import check_trainer_meta
from ..gan.config import TrainConfig
from ..gan.run_config import check_run_config
from ..gan.outputs import CHECKPOINT, finish_swap
from .failures import UsageError
from .old_run import check_old_run
from .options import ExampleParser
from .preflight import check_output_folder

__all__ = ["RESUMABLE", "RunContext", "begin", "start_run", "train_config", "resolve_device",
           "lock_output_folder"]

# flags that may change when resuming; everything else comes from the checkpoint
RESUMABLE = {"epochs", "max_steps", "sample_every", "checkpoint_every", "log_every", "device",
             "out", "resume", "quiet", "export_samples", "data_dir", "no_download", "data_parallel"}


def resolve_device(parser, name):
    """'cpu' or 'cuda' for --device; exits with code 2 when cuda is asked for but absent."""
    if name == "auto":
        return "cuda" if cuda_available() else "cpu"
    if name == "cuda" and not cuda_available():
        parser.fail("--device cuda: no CUDA GPU with CuPy was found (pip install -e '.[gpu-cuda12]' "
                    "or '.[gpu-cuda13]' on a machine with an NVIDIA GPU, or use --device cpu)")
    return name


def launched_processes():
    """How many processes mpirun/mpiexec started with this one (Open MPI, MPICH), else 1."""
    for name in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE"):
        try:
            return int(os.environ[name])
        except (KeyError, ValueError):
            continue
    return 1


def data_parallel(parser, args, device):
    """SingleProcess, or DataParallel over mpirun's processes with --data-parallel (CPU only)."""
    if not getattr(args, "data_parallel", False):
        launched = launched_processes()
        if launched > 1:
            parser.fail(f"started by mpirun as one of {launched} processes without --data-parallel: "
                        f"each would train alone and write the same --out (add --data-parallel "
                        f"to every process, or run one process)")
        return SingleProcess()
    if device != "cpu":
        parser.fail("--data-parallel: training over processes runs on the CPU (--device cpu)")
    try:
        return DataParallel()
    except RuntimeError as e:
        parser.fail(f"--data-parallel: {e}")


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
    lock: object = None                         # the FolderLock on ``out`` (rank 0's)

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
    parallel.check_same({"--" + k.replace("_", "-"): v for k, v in vars(args).items()
                         if k != "given"}, what="option")   # every process: one command line
    out = args.out
    problem = check_output_folder(out)
    if problem:
        parser.fail(f"--out {out}: {problem}")
    ctx = RunContext(parser, args, example, device, out, parallel=parallel,
                     lock=lock_output_folder(parser, out) if parallel.is_main else None)
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
        try:
            check_run_config(config, ckpt)        # builders, settings, data source: all of it
        except CheckpointError as e:
            parser.fail(f"--resume: {e}")
        ctx.saved_config, ctx.saved_meta = config, meta
        ignored = sorted(args.given - RESUMABLE - set(resumable))
        if ignored:
            ctx.notes.append("note: resuming keeps the checkpoint's settings; ignored: "
                             + ", ".join("--" + k.replace("_", "-") for k in ignored))
    elif os.path.isdir(out):
        try:
            note = check_old_run(out)        # only a minigan run's files may be replaced
        except UsageError as e:
            parser.fail(str(e))
        if note:
            ctx.notes.append(note)
    return ctx


def lock_output_folder(parser, out, option="--out"):
    """The run's lock on ``out`` (created if needed; released at exit); one line and exit code 2
    while another live run holds it. A lock left by a run that died is taken over."""
    try:
        lock = FolderLock(out, option).acquire()
    except FolderLocked as e:
        parser.fail(str(e))
    if lock.took_over:
        print(f"note: {option} {out}: took over the lock of run pid {lock.took_over}, which is no "
              f"longer running", flush=True)
    finish_swap(out)            # a new run killed while replacing an old one: finish that first
    return lock


def begin(parser, argv, example, resumable=()):
    """Parse ``argv``, start the run (:func:`start_run`) and say where it goes: (args, ctx)."""
    args = parser.parse_args(argv)
    ctx = start_run(parser, args, example, resumable=resumable)
    ctx.say(f"minigan {example}: device {ctx.device}, output in {ctx.out}")
    return args, ctx


COMMON_FIELDS = ("batch_size", "epochs", "max_steps", "seed", "sample_every", "checkpoint_every",
                 "log_every")


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
