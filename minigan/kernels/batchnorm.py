"""Fast BatchNorm (nn/batchnorm.py) in training mode: each direction in one kernel pass per
channel (numba on the CPU; CUDA on the GPU, whose forward also moves the running estimates),
on the batch-last layout (layout.py), where a channel's M values are one contiguous row of
x viewed as (C, M)."""
from ..arrays import get_array_module
from ..dispatch import register
from . import ops
from .layout import batch_first, batch_last


@register("BatchNorm.forward")
def batchnorm_forward(layer, x):
    if not (layer.affine and (layer.training or not layer.track_running_stats)):
        return NotImplemented                                 # eval (running statistics): plain
    layer._check_input(x, layer._ranks, 1, layer.num_features)
    x_t = batch_last(x)                                       # (C, ..., N)
    x2 = get_array_module(x).ascontiguousarray(x_t.reshape(layer.num_features, -1))  # (C, M)
    if x2.shape[1] < 2:
        return NotImplemented                                 # the plain forward says why not
    update = layer.training and layer.track_running_stats
    running = ((layer.running_mean, layer.running_var, layer.momentum)
               if update and layer.momentum is not None else None)
    fast = ops.batchnorm_forward(x2, layer.weight.data, layer.bias.data, layer.eps, running)
    if fast is None:
        return NotImplemented
    y, x_hat, mean, var, inv_std, running_done = fast
    if update:
        layer._update_running_stats(mean, var, x2.shape[1], values_done=running_done)
    layer._cache = (x_hat, inv_std, x.shape)
    return batch_first(y.reshape(x_t.shape))


@register("BatchNorm.backward")
def batchnorm_backward(layer, grad_output, need_input_grad=True):
    x_hat, inv_std, x_shape = layer._get_cache()             # x̂ as (C, M)
    layer._check_grad(grad_output, x_shape, x_hat)
    dy_t = batch_last(grad_output)
    xp = get_array_module(grad_output)
    dy = xp.ascontiguousarray(dy_t.reshape(layer.num_features, -1))   # (C, M); copies only if strided
    gamma, beta = layer.weight, layer.bias                    # (a frozen γ or β: into scratch)
    dgamma, dbeta = (p.grad if p.requires_grad else xp.zeros_like(p.grad)
                     for p in (gamma, beta))
    dx = ops.batchnorm_backward(dy, x_hat, gamma.data, inv_std, dgamma, dbeta)
    if dx is None:               # the forward's kernel ran, so this one applies: only if switched off since
        raise RuntimeError(f"{type(layer).__name__}: the fast BatchNorm kernel was switched off "
                           f"between this layer's forward and its backward")
    return batch_first(dx.reshape(dy_t.shape))
