"""The hinge loss of GANs (Lim & Ye 2017; Miyato et al. 2018): D's and G's halves."""
from .loss import _Loss


class HingeLoss(_Loss):
    """D's hinge loss on raw scores x, target t = 1 (real) or 0 (fake); s = 2t − 1 = ±1:

        ℓ = max(0, 1 − s·x)        (real: max(0, 1 − x);  fake: max(0, 1 + x))
        ∂ℓ/∂x = −s where s·x < 1, else 0       (gradient of the mean: divided by n)

    D is pushed to score real images above +1 and fakes below −1, and no further: scores past
    the margin add no loss and no gradient.
    """

    def _loss(self, xp, x, t):
        return xp.maximum(0, 1 - (2 * t - 1) * x)

    def _grad(self, xp, x, t):
        s = 2 * t - 1
        return xp.where(s * x < 1, -s, 0).astype(x.dtype)


class GeneratorHingeLoss(_Loss):
    """G's half: ℓ = −x (the target is ignored: G raises D's score of its samples); the mean's
    gradient is −1/n."""

    def _loss(self, xp, x, t):
        return -x

    def _grad(self, xp, x, t):
        return -xp.ones_like(x)
