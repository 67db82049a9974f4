"""The two halves of a GAN training step, as plain functions (GANTrainer calls them).

    D step:  D.zero_grad()
             loss_real = ℓ(D(x), t_real);    D.backward(∂loss_real/∂D(x))      (grads add up)
             loss_fake = ℓ(D(fake), t_fake); D.backward(∂loss_fake/∂D(fake))   (fake is "detached":
             optD.step()                                                  no gradient flows to G)
    G step:  G.zero_grad()
             loss_G = ℓ(D(fake), 1)         # non-saturating: G maximises log D(G(z))
             d_fake = D.backward(∂loss_G/∂D(fake))      # the gradient w.r.t. the fake images
                                                        # (D frozen: its own gradients unused)
             G.backward(d_fake); optG.step()            # uses the caches of the one G(z) before

A loss that is NaN or infinite raises :class:`NonFiniteLossError` before the optimizer step
that would use it. The losses and D's mean outputs stay on the device until each half-step
reads them back together, once (on a GPU every read-back waits for the GPU to finish).
"""
import contextlib
import math

from .. import nn
from ..backend import get_array_module


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite inside a step (raised before any optimizer step on it)."""

    def __init__(self, name, value):
        super().__init__(f"{name} is {value}")
        self.name, self.value = name, value


def mean_probability(out, loss_name):
    """Mean of D's output as a probability (the sigmoid of logits for bce_logits, and of the
    scores for hinge), as a 0-d array on out's device."""
    xp = get_array_module(out)
    if loss_name in ("bce_logits", "hinge"):
        return xp.mean(nn.activation.sigmoid(out))
    return xp.mean(out)


def read_back(*values):
    """0-d arrays (or numbers) of one device as Python floats, in one transfer."""
    xp = get_array_module(values[0])
    return [float(v) for v in xp.stack([xp.asarray(v, dtype=xp.float64) for v in values]).tolist()]


def finite(name, value):
    """``value``, or NonFiniteLossError if it is NaN or infinite."""
    if not math.isfinite(value):
        raise NonFiniteLossError(name, value)
    return value


@contextlib.contextmanager
def frozen(model):
    """Inside the block ``model``'s parameters get no gradient (requires_grad False); each one's
    own setting comes back afterwards, also when the block raises."""
    params = model.parameters()
    before = [p.requires_grad for p in params]
    model.requires_grad_(False)
    try:
        yield model
    finally:
        for p, flag in zip(params, before):
            p.requires_grad = flag


def discriminator_step(D, opt_d, loss, loss_name, real, fake, t_real, t_fake):
    """D.zero_grad(); backward on the real batch, then on the fake batch; optD.step().
    Returns loss_D, D(x) and D(G(z)) (mean probabilities)."""
    opt_d.zero_grad()
    out_real = D(real)
    loss_real = loss.evaluate(out_real, t_real.reshape(out_real.shape))
    D_x = mean_probability(out_real, loss_name)
    D.backward(loss.backward(), need_input_grad=False)
    out_fake = D(fake)
    loss_fake = loss.evaluate(out_fake, t_fake.reshape(out_fake.shape))
    D_G_z = mean_probability(out_fake, loss_name)
    D.backward(loss.backward(), need_input_grad=False)     # fake is detached for D
    loss_real, loss_fake, D_x, D_G_z = read_back(loss_real, loss_fake, D_x, D_G_z)
    loss_D = finite("loss_D", loss_real + loss_fake)
    opt_d.step()
    return {"loss_D": loss_D, "D_x": D_x, "D_G_z": D_G_z}


def generator_step(G, D, opt_g, loss, fake):
    """Non-saturating G step: loss ℓ(D(fake), 1), gradient through D into G.

    D's weights are frozen for this backward: G's step needs only ∂ℓ/∂fake from D, and D's own
    gradients would be thrown away by D's next zero_grad (in the DCGAN that skips a third of
    D's weight-gradient GEMMs; PyTorch's recipe computes them)."""
    opt_g.zero_grad()
    out = D(fake)
    xp = get_array_module(out)
    loss_G = loss.evaluate(out, xp.ones_like(out))
    with frozen(D):
        d_fake = D.backward(loss.backward())
    G.backward(d_fake, need_input_grad=False)
    loss_G = finite("loss_G", read_back(loss_G)[0])
    opt_g.step()
    return {"loss_G": loss_G}
