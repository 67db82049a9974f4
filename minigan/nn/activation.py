"""Elementwise activations. Each keeps what its derivative needs and nothing more."""
import numpy as np

from ..arrays import get_array_module
from ..dispatch import fast_version
from .module import Module


class _Elementwise(Module):
    """y = f(x) elementwise; backward returns dy · f'(x) (never modifies dy in place).

    A layer whose derivative is written with its output (Tanh, Sigmoid: ``keeps_output``)
    returns y read-only on the CPU: editing it in place would silently change the gradient
    (PyTorch raises for the same edit). Copy it first (``y = y.copy()``) to change it."""

    keeps_output = False

    def forward(self, x):
        self._check_input(x, range(1, 9))
        xp = get_array_module(x)
        y = self._f(xp, x)
        if self.keeps_output and xp is np:
            y.flags.writeable = False
        self._cache = (x, y)
        return y

    def backward(self, grad_output, need_input_grad=True):   # dL/dx is always computed
        x, y = self._get_cache()
        self._check_grad(grad_output, x.shape, x)
        return self._df(get_array_module(x), x, y, grad_output)


class ReLU(_Elementwise):
    """y = max(x, 0);  dx = dy · [x > 0]."""

    def _f(self, xp, x):
        return xp.maximum(x, 0)

    def _df(self, xp, x, y, dy):
        return xp.where(x > 0, dy, 0).astype(dy.dtype, copy=False)


class LeakyReLU(_Elementwise):
    """y = x if x > 0 else a·x;  dx = dy if x > 0 else a·dy   (a = negative_slope)."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    @fast_version("leaky_relu")
    def _f(self, xp, x):
        return xp.where(x > 0, x, x * self.negative_slope)

    @fast_version("leaky_relu_grad")
    def _df(self, xp, x, y, dy):
        return xp.where(x > 0, dy, dy * self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Tanh(_Elementwise):
    """y = tanh(x);  dx = dy · (1 − y²)."""

    keeps_output = True

    def _f(self, xp, x):
        return xp.tanh(x)

    def _df(self, xp, x, y, dy):
        return dy * (1 - y * y)


def sigmoid(x):
    """σ(x) = 1 / (1 + e^−x), computed from e^−|x| so it never overflows and keeps full
    relative precision for very negative x."""
    xp = get_array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(_Elementwise):
    """y = σ(x);  dx = dy · y · (1 − y)."""

    keeps_output = True

    def _f(self, xp, x):
        return sigmoid(x)

    def _df(self, xp, x, y, dy):
        return dy * y * (1 - y)
