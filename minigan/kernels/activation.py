"""Fast LeakyReLU (nn/activation.py): one fused pass over memory, parallel over both cores
(numba), or one CUDA launch; the result keeps the input's memory layout."""
from ..dispatch import register
from . import ops


@register("leaky_relu")
def leaky_relu(layer, xp, x):
    y = ops.leaky_relu(x, layer.negative_slope)
    return NotImplemented if y is None else y


@register("leaky_relu_grad")
def leaky_relu_grad(layer, xp, x, y, dy):
    dx = ops.leaky_relu_grad(x, dy, layer.negative_slope)
    return NotImplemented if dx is None else dx
