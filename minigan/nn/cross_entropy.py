"""CrossEntropyLoss: softmax cross-entropy of class logits against integer class targets."""
import numpy as np

from ..arrays import check_compute_dtype
from ..backend import device_of, get_array_module
from .loss import _Loss


def log_softmax(x, axis=1):
    """log softmax(x) along ``axis``, stable for any logits: with m = max_k x_k,
    log p_k = (x_k − m) − log Σ_j e^(x_j − m)   (every exponent ≤ 0, so nothing overflows)."""
    xp = get_array_module(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(x, axis=1):
    """softmax(x) along ``axis``, computed as exp(log_softmax(x))."""
    return get_array_module(x).exp(log_softmax(x, axis))


class CrossEntropyLoss(_Loss):
    """Mean negative log-likelihood of the target class under softmax(logits), as PyTorch's
    ``nn.CrossEntropyLoss()`` with class-index targets:

        p = softmax(x)                      x (N, K) logits, t (N,) class indices in [0, K)
        loss = −(1/N) Σ_n log p[n, t_n]     computed from the stable log_softmax

    Backward (the softmax and the log cancel into a simple form):

        ∂loss/∂x = (p − onehot(t)) / N      (N, K)

    ``target`` holds integers (any integer dtype); a floating array holding whole numbers
    is accepted too (mg.gradcheck passes targets as float64).
    """

    def evaluate(self, input, target):
        """The mean loss as a 0-d array (``loss(input, target)`` returns it as a float); checking
        the targets reads them back from a GPU."""
        name = type(self).__name__
        for what, a in (("input", input), ("target", target)):
            if not hasattr(a, "shape") or not hasattr(a, "dtype"):
                raise TypeError(f"{name}: {what} must be a NumPy or CuPy array, got "
                                f"{type(a).__name__}")
        if input.ndim != 2:
            raise ValueError(f"{name}: expected 2-D logits (N, classes), got shape "
                             f"{tuple(input.shape)}")
        if input.dtype.kind != "f":
            raise TypeError(f"{name}: input must be floating point, got dtype {input.dtype}")
        check_compute_dtype(name, "input", input.dtype)
        n, k = input.shape
        if tuple(target.shape) != (n,):
            raise ValueError(f"{name}: expected target of shape ({n},) (one class index per row "
                             f"of the input {tuple(input.shape)}), got {tuple(target.shape)}")
        if device_of(input) != device_of(target):
            raise ValueError(f"{name}: input is on {device_of(input)!r} but target is on "
                             f"{device_of(target)!r}")
        if n == 0:
            raise ValueError(f"{name}: empty batch (input shape {tuple(input.shape)})")
        xp = get_array_module(input)
        if target.dtype.kind == "f":
            if bool((target != xp.round(target)).any()):
                raise TypeError(f"{name}: target must hold class indices (integers), got "
                                f"non-integer values of dtype {target.dtype}")
        elif target.dtype.kind not in "iu":
            raise TypeError(f"{name}: target must hold integer class indices, got dtype "
                            f"{target.dtype}")
        target = target.astype(np.int64, copy=False)
        if bool(((target < 0) | (target >= k)).any()):
            raise ValueError(f"{name}: target class indices must be in [0, {k}), got values in "
                             f"[{int(target.min())}, {int(target.max())}]")
        logp = log_softmax(input, axis=1)                                  # (N, K)
        rows = xp.arange(n)
        self._cache = (input, target, logp)
        return -logp[rows, target].mean()

    def backward(self):
        cache = getattr(self, "_cache", None)
        if cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before the loss was "
                               f"computed")
        input, target, logp = cache
        xp = get_array_module(input)
        n = input.shape[0]
        grad = xp.exp(logp)                                                # p (N, K), a new array
        grad[xp.arange(n), target] -= 1                                   # p − onehot(t)
        grad /= n
        return grad.astype(input.dtype, copy=False)
