"""Exercises 10-11: Adam against optim.Adam, and the GAN step against minigan.gan.steps."""
import copy

import numpy as np

from minigan import nn, optim
from minigan.gan import steps

from ..grading import Diagnosis, close, rel_error
from .common import check, fn, randn


# ----------------------------------------------------------------------------- 10. Adam
def adam_variant(mistake):
    def step(theta, g, m, v, t, lr, b1, b2, eps):
        m[...] = b1 * m + (1 - b1) * g
        v[...] = b2 * v + (1 - b2) * (g if mistake == "g_not_squared" else g * g)
        if mistake == "no_bias_correction":
            m_hat, v_hat = m, v
        else:
            m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        if mistake == "eps_inside_sqrt":
            update = lr * m_hat / np.sqrt(v_hat + eps)
        else:
            update = lr * m_hat / (np.sqrt(v_hat) + eps)
        theta[...] = theta + update if mistake == "sign" else theta - update
    return step


ADAM_MISTAKES = {
    "no_bias_correction": "the bias corrections are missing: divide m by 1 − β₁ᵗ and v by 1 − β₂ᵗ "
                          "(they start at 0, so early steps would be too small)",
    "eps_inside_sqrt": "ε is inside the square root: PyTorch adds it after, √v̂ + ε",
    "sign": "the step goes uphill (sign flipped): θ ← θ − lr·m̂/(√v̂ + ε)",
}


@check("adam")
def check_adam(learner, mod, report, rng):
    step_fn = fn(mod, "adam_step")
    for case in range(3):
        shape = tuple(int(v) for v in rng.integers(1, 5, 2))
        lr, b1, b2 = float(rng.uniform(1e-3, 1e-1)), float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.9, 0.999))
        eps = 1e-3 if case == 0 else 1e-8               # a large ε shows where it is added
        p = nn.Parameter(randn(rng, *shape))
        opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps)
        theta, m, v = p.data.copy(), np.zeros(shape), np.zeros(shape)
        variants = {k: (p.data.copy(), np.zeros(shape), np.zeros(shape)) for k in ADAM_MISTAKES}
        for t in range(1, 6):
            g = randn(rng, *shape) * 0.1
            p.grad[...] = g
            opt.step()
            before = theta.copy()
            returned = learner.call(step_fn, theta, g.copy(), m, v, t, lr=lr, beta1=b1, beta2=b2, eps=eps)
            for k, (th, mm, vv) in variants.items():
                adam_variant(k)(th, g, mm, vv, t, lr, b1, b2, eps)
            if np.array_equal(theta, before) and returned is not None and close(returned, p.data):
                report.fail("θ", "is not updated in place", Diagnosis(
                    "not_in_place", "adam_step returns the new θ but leaves the array unchanged: "
                    "update theta, m and v in place (theta -= ..., m[...] = ...)"))
                return ""
            if not np.all(np.isfinite(theta)):
                report.fail("θ", f"became NaN or inf at step {t}", Diagnosis(
                    "g_not_squared", "√v̂ of a negative v̂? v must average g² (never negative), not g"))
                return ""
            if not close(theta, p.data, 1e-9):
                err = rel_error(theta, p.data)
                diagnosis = next((Diagnosis(k, msg) for k, msg in ADAM_MISTAKES.items()
                                  if close(theta, variants[k][0], 1e-9)), None)
                report.fail("θ", f"after step {t} differs from minigan's optim.Adam (relative "
                            f"error {err:.1e}; lr {lr:.3g}, betas ({b1:.3g}, {b2:.3g}), eps {eps:g})",
                            diagnosis)
                return ""
    return "5 steps agree with minigan's optim.Adam (= torch.optim.Adam) in 3 random settings"


# ----------------------------------------------------------------------------- 11. GAN step
def tiny_gan(rng):
    """A small G (with BatchNorm) and D in float64, their weights drawn from ``rng`` (minigan's
    own generator is left alone)."""
    G = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.2), nn.Linear(8, 4),
                      nn.Tanh()).double()
    D = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1)).double()
    for p in G.parameters() + D.parameters():
        p.data[...] = rng.standard_normal(p.data.shape) * 0.5
    return G, D


def params(model):
    return np.concatenate([p.data.ravel() for p in model.parameters()])


def reference_steps(G, D, real, z, n, fake_target=0.0, g_target=1.0):
    """minigan.gan.steps on copies of G and D (``fake_target``/``g_target``: wrong variants)."""
    G, D = copy.deepcopy(G), copy.deepcopy(D)
    opt_g, opt_d = (optim.Adam(m.parameters(), lr=0.01, betas=(0.5, 0.999)) for m in (G, D))
    loss, out = nn.BCEWithLogitsLoss(), []
    for _ in range(n):
        fake = G(z)
        ones = np.ones((len(real), 1))
        steps.discriminator_step(D, opt_d, loss, "bce_logits", real, fake, ones, ones * fake_target)
        d_after = params(D)
        if g_target == 1.0:
            steps.generator_step(G, D, opt_g, loss, fake)
        else:
            opt_g.zero_grad()
            loss(D(fake), np.full((len(real), 1), g_target))
            with steps.frozen(D):
                G.backward(D.backward(loss.backward()), need_input_grad=False)
            opt_g.step()
        out.append((d_after, params(G)))
    return out


@check("gan_step")
def check_gan_step(learner, mod, report, rng):
    d_step, g_step = fn(mod, "discriminator_step"), fn(mod, "generator_step")
    G, D = tiny_gan(rng)
    real, z = rng.uniform(-1, 1, (6, 4)), rng.standard_normal((6, 3))
    n = 3
    want = reference_steps(G, D, real, z, n)
    wrong_fake_label = reference_steps(G, D, real, z, n, fake_target=1.0)
    wrong_g_target = reference_steps(G, D, real, z, n, g_target=0.0)
    G, D = copy.deepcopy(G), copy.deepcopy(D)
    opt_g, opt_d = (optim.Adam(m.parameters(), lr=0.01, betas=(0.5, 0.999)) for m in (G, D))
    bce = nn.BCEWithLogitsLoss()
    calls = []                                         # (phase, model, input gradient wanted)

    def watch(model, tag):
        backward = model.backward

        def watched(dy, need_input_grad=True):
            calls.append((phase[0], tag, need_input_grad))
            return backward(dy, need_input_grad=need_input_grad)
        model.backward = watched
    watch(G, "G")
    watch(D, "D")
    phase = ["D"]
    for i in range(n):
        fake = G(z)
        phase[0] = "D"
        g_before = params(G)
        learner.call(d_step, D, opt_d, bce, real, fake)
        if ("D", "D", True) in calls or ("D", "G", True) in calls or ("D", "G", False) in calls:
            report.fail("D's step", "asked D.backward for the gradient w.r.t. its input", Diagnosis(
                "not_detached", "the fake batch is not detached in D's step: D's loss is "
                "minimised over D only, so no gradient may flow toward G — call "
                "D.backward(..., need_input_grad=False) (and never G.backward) there"))
            return ""
        if not close(params(G), g_before, 0):
            report.fail("D's step", "changed G's weights (only opt_d.step() belongs in D's step)")
            return ""
        d_want, g_want = want[i]
        if not close(params(D), d_want, 1e-9):
            diagnosis = (Diagnosis("fake_label", "in D's step the fake batch must have target 0 "
                                   "(D learns to say \"fake\"); the ones go to the real batch")
                         if close(params(D), wrong_fake_label[i][0], 1e-9) else None)
            report.fail("D's weights", f"after D's step {i + 1} differ from minigan.gan.steps "
                        f"(relative error {rel_error(params(D), d_want):.1e})", diagnosis)
            return ""
        phase[0] = "G"
        d_before = params(D)
        learner.call(g_step, G, D, opt_g, bce, fake)
        if not close(params(D), d_before, 0):
            report.fail("G's step", "changed D's weights (only opt_g.step() belongs in G's step)")
            return ""
        if not all(p.requires_grad for p in D.parameters()):
            report.fail("G's step", "left D frozen", Diagnosis(
                "d_left_frozen", "D is left frozen after G's step: call D.requires_grad_(True) "
                "after D.backward, or D's optimizer skips its parameters from then on"))
            return ""
        if ("G", "G", False) not in calls and ("G", "G", True) not in calls:
            report.fail("G's step", "never called G.backward: G's gradient comes through D, "
                        "d_fake = D.backward(...), then G.backward(d_fake)")
            return ""
        if not close(params(G), g_want, 1e-9):
            diagnosis = (Diagnosis("g_target", "G's loss uses target 0: the non-saturating loss "
                                   "is ℓ(D(G(z)), 1) — G wants D to say \"real\"")
                         if close(params(G), wrong_g_target[i][1], 1e-9) else None)
            report.fail("G's weights", f"after G's step {i + 1} differ from minigan.gan.steps "
                        f"(relative error {rel_error(params(G), g_want):.1e})", diagnosis)
            return ""
        calls.clear()
    return f"{n} D and G steps leave the same weights as minigan.gan.steps, fake detached"
