"""Exercise 9 — Dropout (inverted).

Training: y = x·m/(1 − p), where m[i] = 1 keeps element i (probability 1 − p) and 0 drops it.
The scaling 1/(1 − p) keeps E[y] = x, so eval mode is the identity.

The mask is a constant of the forward (drawn once, not a function of x), so the layer is
linear in x with a diagonal Jacobian: write dx.
Hint: the same mask, the same scale.

Reference, after you try: minigan/nn/dropout.py.  Check:  python -m minigan.learn check dropout
"""
import numpy as np  # noqa: F401  (you will want it)


def dropout_forward(x, p, rng):
    """rng: a numpy Generator. Returns (y, cache)."""
    keep = rng.random(x.shape) >= p          # True: kept
    y = x * keep / (1 - p)
    return y, (keep, p)


def dropout_backward(dy, cache):
    """Returns dx."""
    keep, p = cache
    raise NotImplementedError("write dropout_backward")
