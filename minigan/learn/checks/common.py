"""What every check shares: the registry, loading and calling the learner's functions, one
graded case of a layer exercise (finite differences of the learner's forward, then minigan's
layer on the same numbers), and running random cases until one fails."""
import numpy as np

from ..grading import Diagnosis, LearnerError, Report, compare, directional_fd

CHECKS = {}
CASES = 6             # random cases per layer exercise


def check(name):
    def register(fn):
        CHECKS[name] = fn
        return fn
    return register


def run_check(learner, name, seed=0):
    """Grade exercise ``name`` in ``learner``'s folder; returns (Report, summary line)."""
    report = Report(name)
    rng = np.random.default_rng(seed)
    summary = ""
    try:
        module = learner.load(name)
        summary = CHECKS[name](learner, module, report, rng)
    except LearnerError as exc:
        report.crash, report.not_written = exc.text, exc.not_written
    return report, summary


def fn(module, name):
    f = getattr(module, name, None)
    if not callable(f):
        raise LearnerError(f"your file has no function {name}() (keep the names of the template)")
    return f


def grads_tuple(got, n, what):
    if not isinstance(got, (tuple, list)) or len(got) != n:
        raise LearnerError(f"{what} must return {n} arrays as a tuple, got {type(got).__name__}"
                           + (f" of {len(got)}" if isinstance(got, (tuple, list)) else ""))
    return got


def grade_layer(learner, report, rng, *, inputs, forward, backward, reference, names, batch=None,
                candidates=None, forward_is_lesson=False, upstream=True):
    """One case of a layer exercise.

    forward(inputs) -> (y, cache)            the learner's forward
    backward(dy, cache) -> tuple of grads    the learner's backward, in the order of ``names``
    reference(inputs, dy) -> (y, {name: grad})   minigan's layer
    candidates(ref_grads, dy) -> {name: [(Diagnosis, wrong)]}
    upstream: a layer gets a random dy; a loss (scalar output) gets dy = 1."""
    y, cache = learner.call(forward, inputs)
    dy = rng.standard_normal(np.shape(reference(inputs, None)[0])) if upstream else 1.0
    y_ref, g_ref = reference(inputs, dy)
    if forward_is_lesson and not compare(report, "y (your forward)", y, y_ref):
        report.notes.append("the forward is wrong, so the backward is not graded yet")
        return False
    if np.shape(y) != np.shape(y_ref):
        report.fail("y", f"the forward returns shape {np.shape(y)}, expected {np.shape(y_ref)}")
        return False
    given = np.copy(dy)
    grads = learner.call(backward, given, cache)
    if upstream and not np.array_equal(given, dy):
        report.fail("dy", "was changed by your backward", Diagnosis(
            "in_place", "your backward modifies dy in place: dy belongs to the layer above "
            "(and may be used again) — compute a new array instead (dy * ..., not dy *= ...)"))
        return False
    if len(names) == 1 and not isinstance(grads, (tuple, list)):
        grads = (grads,)
    grads = grads_tuple(grads, len(names), "backward")
    ok = True
    wrong = candidates(g_ref, dy) if candidates else {}
    for name, g in zip(names, grads):
        ok &= compare(report, "d" + name, g, g_ref[name], batch, wrong.get(name, ()))

    def loss(inp):
        out, _ = learner.call(forward, inp)
        return float((np.asarray(out, np.float64) * dy).sum())
    for name, g in zip(names, grads):
        directional_fd(report, "d" + name, loss, inputs, name, g, rng)
    return ok and report.ok


def run_cases(report, cases, describe):
    """Run ``cases`` (callables returning True when right) until one fails."""
    for i, case in enumerate(cases):
        if not case():
            report.notes.append(f"(on random case {i + 1}: {describe[i]})")
            return False
        report.passed_cases += 1
    return True


def summary(names, layer, n):
    verb = "agree" if len(names) > 1 else "agrees"
    return (f"{', '.join('d' + x for x in names)} {verb} with finite differences and with "
            f"minigan's {layer} on {n} random cases")


def randn(rng, *shape):
    return rng.standard_normal(shape)
