"""Exercise 2 — Linear:  y = x Wᵀ + b.

Shapes: x (N, in), W (out, in), b (out,), y (N, out); dy = ∂L/∂y has y's shape.

Each y[n, o] = Σᵢ x[n, i]·W[o, i] + b[o]. Write ∂L/∂x, ∂L/∂W and ∂L/∂b (each with the shape
of what it differentiates). Hint: write one entry with its sum first, e.g.
∂L/∂W[o, i] = Σₙ dy[n, o]·x[n, i], then read the matrix product off the indices. b is added to
every row of the batch: its gradient sums over the batch.

Reference, after you try: minigan/nn/linear.py.  Check:  python -m minigan.learn check linear
"""
import numpy as np  # noqa: F401  (you will want it)


def linear_forward(x, W, b):
    """y = x Wᵀ + b, and what backward needs."""
    y = x @ W.T + b
    cache = (x, W)
    return y, cache


def linear_backward(dy, cache):
    """Returns (dx, dW, db) for upstream gradient dy (N, out)."""
    x, W = cache
    raise NotImplementedError("write linear_backward: dx (N, in), dW (out, in), db (out,)")
