"""Fast Reshape and Flatten (nn/reshape.py): reshape the batch-last view (layout.py), so the
batch stays the last axis in memory and an array of a fast layer is reshaped without a copy
(a plain reshape of that strided view would copy it into C order)."""
from ..dispatch import register
from .layout import batch_first, batch_last


@register("Reshape.forward")
def reshape_forward(layer, x):
    target = layer._checked_target(x)
    layer._cache = (x.shape, x)
    return batch_first(batch_last(x).reshape(target + (x.shape[0],)))


@register("Reshape.backward")
def reshape_backward(layer, grad_output, need_input_grad=True):
    in_shape, x = layer._get_cache()
    layer._check_grad(grad_output, (in_shape[0],) + layer._target(x), x)
    return batch_first(batch_last(grad_output).reshape(tuple(in_shape[1:]) + (in_shape[0],)))
