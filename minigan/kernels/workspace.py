"""Scratch arrays a fast layer reuses from call to call instead of reallocating."""
from ..arrays import get_array_module


class Workspace:
    """Named scratch arrays, kept between calls.

    Large fresh allocations cost page faults on every step; a GEMM writing into a reused
    buffer runs up to 3x faster here. Only a layer's *internal* scratch lives here, never
    an array it returns (the caller may keep that). ``Workspace.reuse = False`` allocates
    afresh every time (to measure what reuse buys: benchmarks/bench_step.py --ablation).
    """

    reuse = True

    def __init__(self):
        self._arrays = {}

    def get(self, name, xp, shape, dtype, zero=False):
        """A reusable array; ``zero=True`` zero-fills it when (re)allocated only."""
        a = self._arrays.get(name) if Workspace.reuse else None
        if a is None or a.shape != tuple(shape) or a.dtype != dtype or get_array_module(a) is not xp:
            a = (xp.zeros if zero else xp.empty)(shape, dtype=dtype)
            self._arrays[name] = a
        return a

    def clear(self):
        self._arrays.clear()


def workspace_of(layer):
    """The layer's workspace, created on first use (``Module._clear_cache`` clears it when the
    layer changes device or dtype)."""
    ws = layer.__dict__.get("_workspace")
    if ws is None:
        ws = Workspace()
        object.__setattr__(layer, "_workspace", ws)
    return ws
