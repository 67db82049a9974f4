"""minigan: a small deep-learning engine on NumPy/CuPy with hand-written backprop.

    import minigan as mg
    D = mg.nn.Sequential(mg.nn.Conv2d(1, 64, 5, stride=2, padding=2), mg.nn.LeakyReLU(0.2), ...)
    y = D(x); dx = D.backward(dy)            # no autograd: every backward is written out
"""
from . import nn, optim
from . import dispatch, kernels  # noqa: E402,F401  (kernels registers the fast versions)
from .backend import asnumpy, cuda_available, get_array_module, seed, to_device
from .gradcheck import GradcheckReport, gradcheck

__version__ = "0.1.0"
__all__ = ["nn", "optim", "dispatch", "get_array_module", "to_device", "asnumpy", "cuda_available", "seed",
           "gradcheck", "GradcheckReport"]
