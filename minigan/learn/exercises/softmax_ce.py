"""Exercise 5 — softmax cross-entropy (a classifier's loss), forward and backward.

x (N, K) logits, t (N,) integer classes. p = softmax(x) row by row, pₖ = e^(xₖ)/Σⱼ e^(xⱼ);
ℓₙ = −log p[n, tₙ] = −x[n, tₙ] + log Σⱼ e^(x[n, j]);  the loss is the MEAN over the N rows.

Forward (the lesson: stability): subtract each row's max before exp — log-sum-exp — so e^(x)
cannot overflow; the result does not change (the max cancels).
Backward: ∂ℓₙ/∂x[n, k] = p[n, k] − [k = tₙ]; then the mean's 1/N.

Reference, after you try: minigan/nn/cross_entropy.py.
Check:  python -m minigan.learn check softmax_ce
"""
import numpy as np  # noqa: F401  (you will want it)


def softmax_cross_entropy_forward(x, t):
    """Returns (the mean loss as a float, cache)."""
    raise NotImplementedError("write softmax_cross_entropy_forward (log-sum-exp)")


def softmax_cross_entropy_backward(cache):
    """Returns dx (N, K)."""
    raise NotImplementedError("write softmax_cross_entropy_backward")
