"""What a new run may replace in its output folder: an old minigan run's files, never a file that
only shares a name with one (a foreign or damaged checkpoint.npz or metrics.csv)."""
import os

from ..files.checkpoint import read_meta
from ..gan.outputs import CHECKPOINT, foreign_file
from .failures import UsageError

__all__ = ["check_old_run"]


def check_old_run(out):
    """None, or a note saying which old run a new run in ``out`` will replace. A UsageError (one
    line naming the file) when ``out`` holds a checkpoint.npz that is not a readable minigan
    checkpoint, or a metrics.csv that is not a minigan metrics file: replacing them would lose
    something that is not a minigan run."""
    foreign = foreign_file(out)
    if foreign:
        raise UsageError(f"--out {out}: a new run would replace {foreign[0]}, which is "
                         f"{foreign[1]}; move it away or choose another --out")
    ckpt = os.path.join(out, CHECKPOINT)
    if os.path.isfile(ckpt):
        return (f"note: starting a new run in {out}: its checkpoint (step {read_meta(ckpt).get('step')}) "
                f"will be replaced once this run saves its first (use --resume to continue it instead)")
    return None
