"""Which threads numba's parallel kernels run on.

numba's default pool here is OpenMP. OpenMP threads spin after a parallel region, competing
with OpenBLAS's threads in the GEMM that follows (measured: a 0.1 ms kernel before a 47 ms
GEMM cost +12 ms), and when PyTorch is imported first, numba shares PyTorch's OpenMP runtime
and its spin policy (the DCGAN step went from 251 to 466 ms at batch 64). numba's own
"workqueue" pool has neither problem and is as fast for these kernels, so minigan asks for it
unless the user chose a layer (NUMBA_THREADING_LAYER).
"""
import os


def configure_numba_threads():
    """Select the workqueue threading layer (before numba's first parallel launch); returns numba."""
    os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
    import numba
    if numba.config.THREADING_LAYER == "default":  # numba was imported before the line above
        numba.config.THREADING_LAYER = "workqueue"
    return numba
