"""Losses (mean reduction): ``loss = fn(input, target)`` then ``dinput = fn.backward()``."""
import numpy as np

from .. import kernels
from ..backend import device_of, get_array_module
from .activation import sigmoid


class _Loss:
    """Checks the pair, remembers what the gradient needs, returns the mean loss as a float
    (``evaluate``: as a 0-d array on the input's device, without reading it back)."""

    def __call__(self, input, target):
        return self.forward(input, target)

    def forward(self, input, target):
        """The mean loss as a Python float (on a GPU this waits for the GPU to compute it)."""
        return float(self.evaluate(input, target))

    def evaluate(self, input, target):
        """The mean loss as a 0-d array on the input's device. On a GPU nothing waits for it, so
        a training step that reads its losses once, at its end, keeps the GPU busy meanwhile."""
        name = type(self).__name__
        for what, a in (("input", input), ("target", target)):
            if not hasattr(a, "shape") or not hasattr(a, "dtype"):
                raise TypeError(f"{name}: {what} must be a NumPy or CuPy array, got {type(a).__name__}")
        if tuple(input.shape) != tuple(target.shape):
            raise ValueError(f"{name}: target shape {tuple(target.shape)} differs from input shape "
                             f"{tuple(input.shape)}")
        if device_of(input) != device_of(target):
            raise ValueError(f"{name}: input is on {device_of(input)!r} but target is on "
                             f"{device_of(target)!r}")
        if input.dtype.kind != "f":
            raise TypeError(f"{name}: input must be floating point, got dtype {input.dtype}")
        target = target.astype(input.dtype, copy=False)
        self._cache = (input, target)
        fast = self._fast_mean(input, target)
        return fast if fast is not None else self._loss(get_array_module(input), input, target).mean()

    def backward(self):
        cache = getattr(self, "_cache", None)
        if cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before the loss was computed")
        input, target = cache
        fast = self._fast_grad(input, target)
        if fast is not None:
            return fast
        grad = self._grad(get_array_module(input), input, target) / input.size
        return grad.astype(input.dtype, copy=False)

    def _fast_mean(self, input, target):   # a fused kernel for the mean loss, where one exists
        return None

    def _fast_grad(self, input, target):   # ... and for its gradient
        return None

    def __repr__(self):
        return f"{type(self).__name__}()"


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits x: ℓ = −[t·log σ(x) + (1 − t)·log(1 − σ(x))].

    Computed in the stable form ℓ = max(x, 0) − x·t + log(1 + e^−|x|), finite for |x| = 1e4.
    Gradient of the mean: (σ(x) − t) / n.
    """

    def _loss(self, xp, x, t):
        return xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))

    def _grad(self, xp, x, t):
        return sigmoid(x) - t

    def _fast_mean(self, x, t):            # GPU: one reduction instead of nine passes
        return kernels.bce_with_logits_mean(x, t)

    def _fast_grad(self, x, t):            # GPU: one pass instead of about ten
        return kernels.bce_with_logits_grad(x, t)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities p ∈ [0, 1]:
    ℓ = −[t·max(log p, −100) + (1 − t)·max(log(1 − p), −100)]   (PyTorch's clamp).

    Gradient of the mean (PyTorch's form): (p − t) / max(p·(1 − p), 1e−12) / n.
    """

    def _loss(self, xp, p, t):
        if bool(((p < 0) | (p > 1)).any()):
            raise ValueError(f"BCELoss: every input must be in [0, 1], got values in "
                             f"[{float(p.min())}, {float(p.max())}] (use BCEWithLogitsLoss for logits)")
        with np.errstate(divide="ignore"):  # log(0) = -inf is expected here: clamped to -100
            log_p, log_1mp = xp.log(p), xp.log1p(-p)
        return -(t * xp.maximum(log_p, -100) + (1 - t) * xp.maximum(log_1mp, -100))

    def _grad(self, xp, p, t):
        return (p - t) / xp.maximum(p * (1 - p), 1e-12)


class MSELoss(_Loss):
    """Mean squared error ℓ = (x − t)²; gradient of the mean: 2(x − t) / n."""

    def _loss(self, xp, x, t):
        return (x - t) ** 2

    def _grad(self, xp, x, t):
        return 2 * (x - t)
