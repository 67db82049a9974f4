"""Inverted dropout."""
from .. import kernels
from ..backend import device_of, rng
from .layout import random_like
from .module import Module


class Dropout(Module):
    """Training: y = x · mask / (1 − p), mask[i] = [u[i] ≥ p] with u[i] ~ U[0, 1), so each
    element is kept with probability 1 − p; eval: y = x.

    Scaling at training time ("inverted" dropout) keeps E[y] = x, so eval needs no change.
    Backward: dx = dy · mask / (1 − p)  (the same mask; identity in eval).
    The uniform draws u are what the forward keeps for the backward.
    """

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = float(p)

    def _active(self):
        return self.training and self.p > 0.0

    def forward(self, x):
        self._check_input(x, range(1, 9))
        if not self._active():
            self._cache = (None, x.shape, x)
            return x
        u = random_like(rng(device_of(x)), x)          # drawn in x's memory order
        y = kernels.dropout(x, u, self.p) if self.p < 1.0 else None
        if y is None:
            y = x * self._scaled_mask(u)
        self._cache = (u, x.shape, x)
        return y

    def backward(self, grad_output, need_input_grad=True):   # dL/dx is always computed
        u, shape, x = self._get_cache()
        self._check_grad(grad_output, shape, x)
        if u is None:
            return grad_output
        dx = kernels.dropout_grad(grad_output, u, self.p) if self.p < 1.0 else None
        return dx if dx is not None else grad_output * self._scaled_mask(u)

    def _scaled_mask(self, u):
        """mask / (1 − p): 1/(1 − p) where kept, 0 where dropped (all 0 when p = 1)."""
        if self.p >= 1.0:
            return u * 0
        return (u >= self.p) * u.dtype.type(1.0 / (1.0 - self.p))

    def mask(self):
        """The scaled mask mask/(1 − p) of the last forward (None in eval or with p = 0)."""
        u = self._get_cache()[0]
        return None if u is None else self._scaled_mask(u)

    def extra_repr(self):
        return f"p={self.p}"
