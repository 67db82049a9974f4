"""Exercise 5 — softmax cross-entropy (a classifier's loss), forward and backward.

x (N, K) logits, t (N,) integer classes. p = softmax(x) row by row, pₖ = e^(xₖ)/Σⱼ e^(xⱼ);
ℓₙ = −log p[n, tₙ] = −x[n, tₙ] + log Σⱼ e^(x[n, j]);  the loss is the MEAN over the N rows.

Forward (the lesson: stability): subtract each row's max before exp — log-sum-exp — so e^(x)
cannot overflow; the result does not change (the max cancels).
Backward: ∂ℓₙ/∂x[n, k] = p[n, k] − [k = tₙ]; then the mean's 1/N.

Reference, after you try: minigan/nn/cross_entropy.py.
Check:  python -m minigan.learn check softmax_ce
"""
import numpy as np


def softmax_cross_entropy_forward(x, t):
    """Returns (the mean loss as a float, cache)."""
    z = x - x.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    n = np.arange(len(t))
    return float(-logp[n, t].mean()), (logp, t)


def softmax_cross_entropy_backward(cache):
    """Returns dx (N, K)."""
    logp, t = cache
    dx = np.exp(logp)
    dx[np.arange(len(t)), t] -= 1
    return dx / len(t)
