"""Losses (mean reduction): ``loss = fn(input, target)`` then ``dinput = fn.backward()``."""
import numpy as np

from ..arrays import check_compute_dtype, device_of, get_array_module
from ..dispatch import fast_version
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
        check_compute_dtype(name, "input", input.dtype)
        target = target.astype(input.dtype, copy=False)
        self._cache = (input, target)
        return self._mean(get_array_module(input), input, target)

    def backward(self):
        cache = getattr(self, "_cache", None)
        if cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before the loss was computed")
        input, target = cache
        return self._mean_grad(get_array_module(input), input, target)

    def _mean(self, xp, x, t):
        """mean_n ℓ(x_n, t_n)"""
        return self._loss(xp, x, t).mean()

    def _mean_grad(self, xp, x, t):
        """∂ mean(ℓ) / ∂x = ℓ'(x, t) / n, in x's dtype"""
        return (self._grad(xp, x, t) / x.size).astype(x.dtype, copy=False)

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

    @fast_version("bce_with_logits_mean")      # GPU: one reduction instead of nine passes
    def _mean(self, xp, x, t):
        return self._loss(xp, x, t).mean()

    @fast_version("bce_with_logits_grad")      # GPU: one pass instead of about ten
    def _mean_grad(self, xp, x, t):
        return (self._grad(xp, x, t) / x.size).astype(x.dtype, copy=False)


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
