"""Exercise 10 — Adam (Kingma & Ba 2015), exactly as torch.optim.Adam.

At step t = 1, 2, ... for a parameter θ with gradient g:
    m ← β₁·m + (1 − β₁)·g              (a running mean of g)
    v ← β₂·v + (1 − β₂)·g²             (a running mean of g²)
    m̂ = m/(1 − β₁ᵗ)   v̂ = v/(1 − β₂ᵗ)   (bias corrections: m and v start at 0)
    θ ← θ − lr · m̂/(√v̂ + ε)            (ε AFTER the square root)

Write adam_step. Update theta, m and v IN PLACE (theta[...] = ..., or -=, +=): they are the
model's own arrays. Hint: for t = 1 the first step moves every θ by about lr·sign(g).

Reference, after you try: minigan/optim/adam.py.  Check:  python -m minigan.learn check adam
"""
import numpy as np


def adam_step(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One step for one parameter array; t is this step's number, starting at 1."""
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    theta -= lr * m_hat / (np.sqrt(v_hat) + eps)
