"""Fast Linear (nn/linear.py): the same products in the batch-last layout, dW into a reused buffer.

Forward as yᵀ = W xᵀ + b: with the batch as the last axis in memory (layout.py) the product
lands in the layout the next fast layer wants, and xᵀ is free. The product dyᵀ x is written
into a reused buffer, then added: a fresh (out, in) result (5 MB for the DCGAN's first layer)
costs page faults on every step.
"""
from ..arrays import get_array_module
from ..dispatch import register
from .layout import batch_first, batch_last
from .workspace import workspace_of


@register("Linear.forward")
def linear_forward(layer, x):
    layer._check_input(x, 2, 1, layer.in_features)
    y_t = layer.weight.data @ batch_last(x)                   # (out, in) @ (in, N) -> (out, N)
    if layer.bias is not None:
        y_t += layer.bias.data[:, None]
    layer._cache = (x,)
    return batch_first(y_t)                                   # (N, out)


@register("Linear.backward")
def linear_backward(layer, grad_output, need_input_grad=True):
    (x,) = layer._get_cache()
    layer._check_grad(grad_output, (x.shape[0], layer.out_features), x)
    dy_t = batch_last(grad_output)                            # (out, N)
    xp = get_array_module(x)
    if layer.weight.requires_grad:
        dw = workspace_of(layer).get("dW", xp, layer.weight.data.shape, xp.result_type(dy_t, x))
        layer.weight.grad += xp.matmul(dy_t, x, out=dw)       # (out, N) @ (N, in)
    if layer.bias is not None and layer.bias.requires_grad:
        layer.bias.grad += dy_t.sum(axis=1)
    if not need_input_grad:
        return None
    return batch_first(layer.weight.data.T @ dy_t)            # (in, N) -> (N, in)
