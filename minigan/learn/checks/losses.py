"""The loss exercises: BCE with logits and softmax cross-entropy, forward (stable) and backward."""
import numpy as np

from minigan import nn

from ..grading import Diagnosis, close
from .common import CASES, check, fn, grade_layer, randn, run_cases


# ----------------------------------------------------------------------------- 4-5. losses
def grade_loss(learner, report, rng, fwd, bwd, x, t, ref_loss, batch):
    def reference(inp, dy):
        loss = ref_loss()
        value = loss(inp["x"], t)
        return value, {"x": loss.backward()}
    return grade_layer(learner, report, rng, inputs={"x": x}, forward=lambda p: fwd(p["x"], t),
                       backward=lambda dy, cache: bwd(cache), reference=reference, names=("x",),
                       batch=batch, forward_is_lesson=True, upstream=False)


def stable(learner, report, fwd, x, t, ref_loss, what):
    got = learner.call(fwd, x, t)
    value = got[0] if isinstance(got, (tuple, list)) else got
    want = ref_loss()(x, t)
    if not np.isfinite(value) or not close(value, want, 1e-9):
        report.fail("loss at large logits", f"{value} for {what}, expected {want}", Diagnosis(
            "overflow", "the forward overflows for large logits: use the stable form given in "
            "the docstring (never exp of a large positive number)"))
        return False
    return True


@check("bce_logits")
def check_bce_logits(learner, mod, report, rng):
    fwd, bwd = fn(mod, "bce_with_logits_forward"), fn(mod, "bce_with_logits_backward")
    shapes = [(5, 1)] + [tuple(rng.integers(1, 6, 2)) for _ in range(CASES - 1)]
    cases = [lambda s=s: grade_loss(learner, report, rng, fwd, bwd, randn(rng, *s) * 3,
                                    rng.random(s), nn.BCEWithLogitsLoss, int(np.prod(s)))
             for s in shapes]
    if run_cases(report, cases, [f"x {s}, t uniform in [0, 1]" for s in shapes]):
        stable(learner, report, fwd, np.array([[1e4], [-1e4], [30.0]]),
               np.array([[0.0], [1.0], [0.5]]), nn.BCEWithLogitsLoss, "logits ±1e4")
    return ("the mean loss and dx agree with nn.BCEWithLogitsLoss and finite differences on "
            f"{len(shapes)} random cases, and stay finite at logits ±1e4")


@check("softmax_ce")
def check_softmax_ce(learner, mod, report, rng):
    fwd, bwd = fn(mod, "softmax_cross_entropy_forward"), fn(mod, "softmax_cross_entropy_backward")
    shapes = [(5, 4)] + [(int(rng.integers(1, 7)), int(rng.integers(2, 6))) for _ in range(CASES - 1)]
    cases = [lambda s=s: grade_loss(learner, report, rng, fwd, bwd, randn(rng, *s) * 3,
                                    rng.integers(0, s[1], s[0]), nn.CrossEntropyLoss, s[0])
             for s in shapes]
    if run_cases(report, cases, [f"x {s}" for s in shapes]):
        stable(learner, report, fwd, np.array([[1000.0, 0.0, -1000.0], [0.0, 800.0, 790.0]]),
               np.array([1, 2]), nn.CrossEntropyLoss, "logits ±1000")
    return ("the mean loss and dx agree with nn.CrossEntropyLoss and finite differences on "
            f"{len(shapes)} random cases, and stay finite at logits ±1000")
