"""CuPy ElementwiseKernels: each fuses what would be several CuPy passes into one.

Created on first use (importing this module imports CuPy; only kernels/__init__ does that,
and only for CuPy arrays)."""
import functools

import cupy


@functools.lru_cache(maxsize=None)
def _kernel(name):
    specs = {
        "leaky_fwd": ("T x, T slope", "T y", "y = x > 0 ? x : x * slope"),
        "leaky_bwd": ("T x, T dy, T slope", "T dx", "dx = x > 0 ? dy : dy * slope"),
        "drop_fwd": ("T x, T u, T p, T scale", "T y", "y = u >= p ? x * scale : T(0)"),
        "drop_bwd": ("T dy, T u, T p, T scale", "T dx", "dx = u >= p ? dy * scale : T(0)"),
        "adam": ("T g0, T beta1, T beta2, T step_size, T bc2_sqrt, T eps, T wd",
                 "T param, T m, T v",
                 "T g = wd != T(0) ? g0 + wd * param : g0;"
                 "m = m * beta1 + (T(1) - beta1) * g;"
                 "v = v * beta2 + (T(1) - beta2) * (g * g);"
                 "param = param - step_size * (m / (sqrt(v) / bc2_sqrt + eps));"),
    }
    params, outs, body = specs[name]
    return cupy.ElementwiseKernel(params, outs, body, f"minigan_{name}")


def leaky_relu_forward(x, slope, out):
    return _kernel("leaky_fwd")(x, slope, out)


def leaky_relu_backward(x, dy, slope, out):
    return _kernel("leaky_bwd")(x, dy, slope, out)


def dropout_forward(x, u, p, scale, out):
    return _kernel("drop_fwd")(x, u, p, scale, out)


def dropout_backward(dy, u, p, scale, out):
    return _kernel("drop_bwd")(dy, u, p, scale, out)


def adam_update(param, grad, m, v, beta1, beta2, step_size, bc2_sqrt, eps, wd):
    _kernel("adam")(grad, beta1, beta2, step_size, bc2_sqrt, eps, wd, param, m, v)
