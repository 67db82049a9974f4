"""Fast Adam (optim/adam.py): each parameter's update in one fused pass (numba on the CPU, a
CUDA kernel on the GPU), and on the GPU every parameter's update in a single launch."""
import math

from ..dispatch import register
from . import ops


@register("adam_update")
def adam_update(param, grad, m, v, beta1, beta2, step_size, bias_correction2_sqrt, eps,
                weight_decay):
    done = ops.adam_update(param, grad, m, v, beta1, beta2, step_size, bias_correction2_sqrt, eps,
                           weight_decay)
    return NotImplemented if done is None else None


@register("Adam.update_all")
def adam_update_all(optimizer, params, states):
    group = optimizer.param_groups[0]
    lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
    t = states[0]["step"]
    if any(s["step"] != t for s in states):
        return NotImplemented
    done = ops.adam_many([p.data for p in params], [p.grad for p in params],
                         [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states],
                         beta1, beta2, lr / (1 - beta1 ** t), math.sqrt(1 - beta2 ** t), eps, wd)
    return NotImplemented if done is None else None
