"""Which array module owns an array: NumPy on the CPU, CuPy on a GPU.

A leaf module (it imports nothing of minigan), so every other module — the layers, the fast
kernels, the random generators — can ask it without an import cycle. It never imports CuPy:
an array can only be a CuPy array if CuPy is already loaded.
"""
import sys

import numpy as np


def get_array_module(x):
    """numpy or cupy, whichever owns array ``x`` (numpy for anything else)."""
    cupy = sys.modules.get("cupy")
    if cupy is not None and isinstance(x, cupy.ndarray):
        return cupy
    return np


def device_of(x):
    """'cuda' for a CuPy array, 'cpu' otherwise."""
    return "cpu" if get_array_module(x) is np else "cuda"
