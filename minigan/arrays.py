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


# the dtypes minigan computes in (native byte order): float32 (the default) and float64 (gradient
# checks); the fast kernels compile for these two only
COMPUTE_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_compute_dtype(name, what, dtype):
    """Raise TypeError (naming ``name`` and ``what``) unless ``dtype`` is float32 or float64 in
    this machine's byte order (float16, big-endian or integer arrays are refused, not guessed)."""
    if dtype not in COMPUTE_DTYPES:
        d = np.dtype(dtype)
        shown = f"{d} ({'big' if d.byteorder == '>' else 'little'}-endian)" if d.byteorder in "<>" else d
        raise TypeError(f"{name}: {what} has dtype {shown}, expected float32 or float64 in this "
                        f"machine's byte order (convert it with .astype(np.float32))")
