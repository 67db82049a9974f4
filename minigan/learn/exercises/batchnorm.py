"""Exercise 8 — BatchNorm (training mode): node by node, then the closed form.

x (M, C): M values of each of C channels (for images, M = N·H·W). Per channel:
    μ = mean(x)   d = x − μ   v = mean(d²)   s = (v + ε)^(−½)   x̂ = d·s   y = γ·x̂ + β
γ, β (C,). dy (M, C).

Node by node (draw the graph: x reaches x̂ directly through d, and through μ and v, which
every value of the channel shares), going back from y:
    dγ = Σ dy·x̂     dβ = Σ dy     dx̂ = dy·γ
    ds = Σ dx̂·d     dv = ds·(−½)·s³
    dd = dx̂·s + dv·2d/M            (d enters x̂ directly, and v through d²)
    dμ = −Σ dd      dx = dd + dμ/M  (μ = mean(x): each x gets 1/M of dμ)
(every Σ runs over the M values of one channel). Substituting d = x̂/s collects into
    dx = s·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))                  the closed form.

Write batchnorm_backward_steps (node by node) first, then batchnorm_backward (closed form);
the check grades both. Hint: keep the channel axis: sum(axis=0) gives (C,).

Reference, after you try: minigan/nn/batchnorm.py (``batchnorm_backward_steps`` too).
Check:  python -m minigan.learn check batchnorm
"""
import numpy as np


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    d = x - mu
    v = (d ** 2).mean(axis=0)                # biased variance
    s = 1.0 / np.sqrt(v + eps)
    x_hat = d * s
    y = gamma * x_hat + beta
    cache = (x_hat, d, s, gamma)
    return y, cache


def batchnorm_backward_steps(dy, cache):
    """Returns (dx, dgamma, dbeta), node by node."""
    x_hat, d, s, gamma = cache
    raise NotImplementedError("write batchnorm_backward_steps")


def batchnorm_backward(dy, cache):
    """Returns (dx, dgamma, dbeta), with the closed form for dx."""
    x_hat, d, s, gamma = cache
    raise NotImplementedError("write batchnorm_backward (the closed form)")
