"""Exercise 4 — binary cross-entropy on logits (the DCGAN's loss), forward and backward.

For a logit x and target t ∈ [0, 1], with σ(x) = 1/(1 + e⁻ˣ):
    ℓ(x, t) = −[t·log σ(x) + (1 − t)·log(1 − σ(x))]
and the loss is the MEAN of ℓ over all n entries of x (shape (N, 1) in the DCGAN).

Forward (the lesson: stability). Computed as written, σ(1e4) = 1 and log(1 − 1) = −inf.
Use log σ(x) = −log(1 + e⁻ˣ) and log(1 − σ(x)) = −x − log(1 + e⁻ˣ) to reach the stable form
    ℓ = max(x, 0) − x·t + log(1 + e^(−|x|))          (np.log1p helps)
which never takes exp of a large positive number.
Backward: dℓ/dx simplifies to σ(x) − t; the mean divides by n.
Hint: a stable σ is 0.5·(1 + tanh(x/2)).

Reference, after you try: minigan/nn/loss.py.  Check:  python -m minigan.learn check bce_logits
"""
import numpy as np


def bce_with_logits_forward(x, t):
    """Returns (the mean loss as a float, cache)."""
    loss = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    return float(loss.mean()), (x, t)


def bce_with_logits_backward(cache):
    """Returns dx = ∂(mean loss)/∂x, x's shape."""
    x, t = cache
    return (0.5 * (1 + np.tanh(x / 2)) - t) / x.size
