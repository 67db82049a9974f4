"""Fast BCEWithLogitsLoss (nn/loss.py), GPU only: the mean as one fused reduction and its
gradient as one pass (on the CPU NumPy's few passes over an (N, 1) batch cost nothing)."""
from ..dispatch import register
from . import ops


@register("bce_with_logits_mean")
def bce_with_logits_mean(loss, xp, x, t):
    mean = ops.bce_with_logits_mean(x, t)
    return NotImplemented if mean is None else mean


@register("bce_with_logits_grad")
def bce_with_logits_grad(loss, xp, x, t):
    grad = ops.bce_with_logits_grad(x, t)
    return NotImplemented if grad is None else grad
