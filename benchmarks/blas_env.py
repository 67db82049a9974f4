"""Let OpenBLAS pick the kernels this CPU supports before NumPy loads it.

Some environments (this project's machines among them) export OPENBLAS_CORETYPE=Haswell,
which forces OpenBLAS's AVX2 kernels on CPUs that have AVX-512: measured here, SGEMM drops
from ≈339 to ≈196 GFLOP/s, while PyTorch (MKL/oneDNN) keeps its AVX-512 kernels. So that the
benchmarks compare like with like, they re-run themselves without that override, and say so;
``--keep-blas-coretype`` keeps it. Import this module before NumPy.
"""
import os
import sys

FLAG = "--keep-blas-coretype"


def use_native_blas_kernels():
    forced = os.environ.get("OPENBLAS_CORETYPE")
    if FLAG in sys.argv:
        sys.argv.remove(FLAG)
        return
    if forced and "numpy" not in sys.modules:
        print(f"note: OPENBLAS_CORETYPE={forced} was set; re-running without it so OpenBLAS uses "
              f"this CPU's own kernels (pass {FLAG} to keep it)", file=sys.stderr, flush=True)
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
