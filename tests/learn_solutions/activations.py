"""Exercise 3 — LeakyReLU and Tanh: elementwise, so dx = dy · f′(x).

LeakyReLU:  y = x if x > 0 else a·x      f′(x) = 1 if x > 0 else a   (a: the negative slope)
Tanh:       y = tanh(x)                  f′(x) = 1 − tanh(x)² = 1 − y²

An elementwise layer's Jacobian is diagonal, so no sum appears: each dx[i] = dy[i]·f′(x[i]).
Hint: Tanh's derivative is cheapest from the output y, which the forward keeps.

Reference, after you try: minigan/nn/activation.py.
Check:  python -m minigan.learn check activations
"""
import numpy as np


def leaky_relu_forward(x, negative_slope):
    y = np.where(x > 0, x, negative_slope * x)
    return y, (x, negative_slope)


def leaky_relu_backward(dy, cache):
    """dx, with dx's shape = x's shape."""
    x, negative_slope = cache
    return np.where(x > 0, dy, negative_slope * dy)


def tanh_forward(x):
    y = np.tanh(x)
    return y, (y,)


def tanh_backward(dy, cache):
    """dx from the kept output y."""
    (y,) = cache
    return dy * (1 - y ** 2)
