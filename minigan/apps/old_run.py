"""What a new run may replace in its output folder: an old minigan run's files, never a file that
only shares a name with one (a foreign or damaged checkpoint.npz or metrics.csv)."""
import os

from ..files.checkpoint import CheckpointError, read_meta
from ..gan.outputs import CHECKPOINT, METRICS
from .failures import UsageError

__all__ = ["check_old_run"]


def check_old_run(out):
    """None, or a note saying which old run a new run in ``out`` will replace. A UsageError (one
    line naming the file) when ``out`` holds a checkpoint.npz that is not a readable minigan
    checkpoint, or a metrics.csv that is not a minigan metrics file: replacing them would lose
    something that is not a minigan run."""
    advice = "move it away or choose another --out"
    ckpt, metrics, note = os.path.join(out, CHECKPOINT), os.path.join(out, METRICS), None
    if os.path.isfile(ckpt):
        try:
            step = read_meta(ckpt).get("step")
        except CheckpointError as e:
            raise UsageError(f"--out {out}: a new run would replace {ckpt}, which is not a readable "
                             f"minigan checkpoint ({str(e).replace(ckpt + ': ', '')}); {advice}") from None
        note = (f"note: starting a new run in {out}: its checkpoint (step {step}) will be replaced "
                f"once this run saves its first (use --resume to continue it instead)")
    if os.path.isfile(metrics):
        try:
            with open(metrics, "rb") as f:
                first = f.read(4096).split(b"\n", 1)[0].lstrip(b"\xef\xbb\xbf").decode("utf-8")
        except (OSError, UnicodeDecodeError):
            first = None
        columns = [c.strip() for c in first.split(",")] if first is not None else []
        if "kind" not in columns or "step" not in columns:
            raise UsageError(f"--out {out}: a new run would replace {metrics}, which is not a "
                             f"minigan metrics file (its first line is not a header with the "
                             f"columns kind and step); {advice}")
    return note
