"""Weight initialisation.

Layers start with PyTorch's defaults (``reset_parameters``): for Linear, Conv2d and
ConvTranspose2d, weight and bias ~ U(−1/√fan_in, 1/√fan_in) — what PyTorch's
``kaiming_uniform_(a=√5)`` works out to — with fan_in = in_features, Cin·kh·kw, or, for a
transposed conv, weight.shape[1]·kh·kw = Cout·kh·kw (PyTorch's own convention).

The functions below re-initialise a Parameter in place, drawing from minigan's seeded CPU
generator (``mg.seed``) and copying to the parameter's device, so one seed gives the same
initial weights on the CPU and the GPU; :func:`dcgan_init` is the DCGAN paper's
scheme and :func:`xavier_uniform` / :func:`xavier_normal` Glorot's.
"""
import math
import os

import numpy as np

from ..backend import get_array_module, rng
from .batchnorm import _BatchNorm
from .module import Parameter


def fan_in_and_fan_out(shape):
    """PyTorch's fans: fan_in = shape[1]·receptive field, fan_out = shape[0]·receptive field."""
    if len(shape) < 2:
        raise ValueError(f"fan in/out needs a weight with at least 2 dims, got shape {tuple(shape)}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fill(param, values):
    xp = get_array_module(param.data)
    param.data[...] = xp.asarray(values, dtype=param.data.dtype)
    return param


def uniform(param, low, high):
    """θ ~ U(low, high)."""
    return _fill(param, rng("cpu").uniform(low, high, size=param.data.shape))


def normal(param, mean=0.0, std=1.0):
    """θ ~ N(mean, std²)."""
    return _fill(param, rng("cpu").normal(mean, std, size=param.data.shape))


def constant(param, value):
    param.data[...] = value
    return param


def default_uniform(param, fan_in):
    """PyTorch's default for weights and biases: U(−1/√fan_in, 1/√fan_in)."""
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return uniform(param, -bound, bound)


def physical_memory():
    """Bytes of RAM of this machine (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(shape):
    """MemoryError, before anything is allocated, when initialising a float32 weight of ``shape``
    (the weight and its float64 draw: 12 bytes an element) needs more than this machine's RAM. A
    machine that overcommits memory would otherwise hand out the address space and kill the
    process once the draw touches it."""
    total, nbytes = physical_memory(), 12 * math.prod(shape)
    if total and nbytes > total:
        raise MemoryError(f"a weight of shape {tuple(shape)} needs {nbytes / 2**30:,.1f} GiB to "
                          f"initialise, more than this machine's {total / 2**30:,.1f} GiB")


def default_weight_and_bias(weight_shape, bias_size, fan_in, bias=True):
    """New float32 (weight, bias) Parameters with PyTorch's default init; bias None if not ``bias``."""
    check_fits(weight_shape)
    weight = default_uniform(Parameter(np.empty(weight_shape, dtype=np.float32)), fan_in)
    if not bias:
        return weight, None
    return weight, default_uniform(Parameter(np.empty(bias_size, dtype=np.float32)), fan_in)


def xavier_uniform(param, gain=1.0):
    """Glorot: U(−a, a) with a = gain·√(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(param.data.shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(param, -a, a)


def xavier_normal(param, gain=1.0):
    """Glorot: N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(param.data.shape)
    return normal(param, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def dcgan_init(module):
    """The DCGAN paper's initialisation, applied to every sub-module of ``module``:
    conv and linear weights ~ N(0, 0.02²), BatchNorm γ ~ N(1, 0.02²), biases (and β) 0.
    Returns ``module``."""
    for m in module.modules():
        if isinstance(m, _BatchNorm):
            if m.weight is not None:
                normal(m.weight, 1.0, 0.02)
                constant(m.bias, 0.0)
        elif "weight" in m._parameters and m.weight.data.ndim >= 2:
            normal(m.weight, 0.0, 0.02)
            if m._parameters.get("bias") is not None:
                constant(m.bias, 0.0)
    return module


def xavier_init(module, normal_dist=False):
    """Glorot initialisation of every conv/linear weight in ``module`` (biases set to 0)."""
    for m in module.modules():
        if "weight" in m._parameters and m.weight.data.ndim >= 2:
            (xavier_normal if normal_dist else xavier_uniform)(m.weight)
            if m._parameters.get("bias") is not None:
                constant(m.bias, 0.0)
    return module
