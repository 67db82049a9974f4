"""minigan.files: writing a run's files safely — the helpers that ``minigan.gan`` and
``minigan.eval`` share, below both.

atomic       atomic_write (a file is its old or its new self, never half), stale temp files
checkpoint   one .npz of arrays plus a JSON document per checkpoint, no pickle
figures      matplotlib figures on an Agg canvas, saved atomically
"""
from .atomic import atomic_write, remove_stale_temp_files
from .checkpoint import (CheckpointError, flatten_optimizer_state, generator_weights, load_checkpoint,
                         read_meta, save_checkpoint, subdict, unflatten_optimizer_state)
from .figures import new_figure, save_figure

__all__ = ["atomic_write", "remove_stale_temp_files", "CheckpointError", "save_checkpoint",
           "load_checkpoint", "read_meta", "generator_weights", "subdict", "flatten_optimizer_state",
           "unflatten_optimizer_state", "new_figure", "save_figure"]
