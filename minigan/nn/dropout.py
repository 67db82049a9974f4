"""Inverted dropout."""
from ..backend import device_of, rng
from .layout import random_like
from .module import Module


class Dropout(Module):
    """Training: y = x · mask / (1 − p), mask[i] ~ Bernoulli(1 − p); eval: y = x.

    Scaling at training time ("inverted" dropout) keeps E[y] = x, so eval needs no change.
    Backward: dx = dy · mask / (1 − p)  (the same mask; identity in eval).
    """

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x):
        self._check_input(x, range(1, 9))
        if not self.training or self.p == 0.0:
            self._cache = (None, x.shape, x)
            return x
        if self.p == 1.0:
            scaled_mask = x * 0
        else:
            keep = random_like(rng(device_of(x)), x) >= self.p
            scaled_mask = keep * x.dtype.type(1.0 / (1.0 - self.p))   # 0 or 1/(1−p), x's dtype
        self._cache = (scaled_mask, x.shape, x)
        return x * scaled_mask

    def backward(self, grad_output):
        scaled_mask, shape, x = self._get_cache()
        self._check_grad(grad_output, shape, x)
        return grad_output if scaled_mask is None else grad_output * scaled_mask

    def extra_repr(self):
        return f"p={self.p}"
