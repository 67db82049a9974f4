"""Exercise 11 — the GAN step: D's half with the fake batch detached, G's half through D.

Given minigan modules G and D (``y = M(x)``, ``dx = M.backward(dy)`` which ADDS each
parameter's gradient into ``p.grad``; ``M.backward(dy, need_input_grad=False)`` skips dx),
optimizers (``opt.zero_grad()``, ``opt.step()``) and a loss (``bce(logits, targets)`` returns
the mean loss, ``bce.backward()`` its gradient w.r.t. the logits), with ``fake = G(z)`` done
once by the caller:

D's step: minimise ℓ(D(real), 1) + ℓ(D(fake), 0) over D's parameters only. The fake batch is
a constant here ("detached"): its gradient must NOT flow into G. Gradients of the two
backward passes add up in D's .grad; zero them first, step once.

G's step: the non-saturating loss ℓ(D(fake), 1) — G wants D to say "real". Its gradient
reaches G's parameters only through D: d_fake = D.backward(...), then G.backward(d_fake).
D is not updated here (its parameter gradients from this pass are thrown away by its next
zero_grad; ``D.requires_grad_(False)`` ... ``D.requires_grad_(True)`` skips computing them).
G.backward uses the caches of the one forward G(z) that made ``fake``.

Targets: ``np.ones_like(out)`` / ``np.zeros_like(out)`` for out = D(...).
Reference, after you try: minigan/gan/steps.py.  Check:  python -m minigan.learn check gan_step
"""
import numpy as np  # noqa: F401  (you will want it)


def discriminator_step(D, opt_d, bce, real, fake):
    """One optimizer step of D; returns loss_D = loss_real + loss_fake (floats)."""
    raise NotImplementedError("write discriminator_step")


def generator_step(G, D, opt_g, bce, fake):
    """One optimizer step of G; returns loss_G (a float)."""
    raise NotImplementedError("write generator_step")
