"""Exercise 1: the chain rule on a micrograd-sized Value."""
import numpy as np

from ..grading import Diagnosis, LearnerError, close, rel_error
from .common import check


# ----------------------------------------------------------------------------- 1. chain rule
@check("chain_rule")
def check_chain_rule(learner, mod, report, rng):
    Value = getattr(mod, "Value", None)
    if Value is None:
        raise LearnerError("your file has no class Value")

    def run(build):
        def go():
            leaves, out = build()
            out.backward()
            return leaves
        return learner.call(go)

    a0, b0, c0 = rng.uniform(0.5, 1.5), rng.uniform(-1.5, -0.5), rng.uniform(1.5, 2.5)
    ops = [   # name, builder of (a, b) -> out, expected ∂out/∂a, ∂out/∂b (b None: unary)
        ("__add__", lambda a, b: a + b, 1.0, 1.0),
        ("__mul__", lambda a, b: a * b, b0, a0),
        ("__pow__", lambda a, b: a ** 3, 3 * a0 ** 2, None),
        ("tanh", lambda a, b: a.tanh(), 1 - np.tanh(a0) ** 2, None),
        ("exp", lambda a, b: a.exp(), np.exp(a0), None),
    ]
    for op, f, da, db in ops:
        def build(f=f):
            a, b, c = Value(a0), Value(b0), Value(c0)
            return (a, b), f(a, b) * c                # upstream gradient c, not 1
        a, b = run(build)
        for tensor, got, want in (("a", a.grad, da), ("b", b.grad, db)):
            if want is None:
                continue
            want = want * c0
            name = f"Value.{op}: d{tensor}"
            if close(got, want, 1e-9):
                continue
            if close(got, -want, 1e-9):
                report.fail(name, f"{got:.6g}, expected {want:.6g}", Diagnosis(
                    "sign", f"{op}'s backward has the wrong sign (flipped)"))
            elif close(got, want / c0, 1e-9):
                report.fail(name, f"{got:.6g}, expected {want:.6g}", Diagnosis(
                    "upstream", f"{op}'s backward forgets out.grad: the chain rule multiplies the "
                    f"local derivative by the upstream gradient"))
            else:
                report.fail(name, f"{got:.6g}, expected {want:.6g} (L = ({op} of a, b)·c, with "
                            f"a = {a0:.4g}, b = {b0:.4g}, c = {c0:.4g})")
    if not report.ok:
        return ""

    def reuse():                                      # a used twice: L = a·a + a
        a = Value(a0)
        return (a,), a * a + a
    (a,) = run(reuse)
    if not close(a.grad, 2 * a0 + 1, 1e-9):
        report.fail("L = a·a + a: da", f"{a.grad:.6g}, expected {2 * a0 + 1:.6g}", Diagnosis(
            "accumulate", "a node used twice must receive both gradients: add with `+=`, never "
            "assign with `=` (and for a·a, self and other are the same node)"))
        return ""

    def by_hand():                                    # the docstring's graph
        a, b, c = Value(2.0), Value(-3.0), Value(4.0)
        return (a, b, c), (a * b + a) * c
    a, b, c = run(by_hand)
    for name, got, want in (("da", a.grad, -8.0), ("db", b.grad, 8.0), ("dc", c.grad, -4.0)):
        if not close(got, want, 1e-12):
            report.fail(f"L = (a·b + a)·c: {name}", f"{got:.6g}, expected {want:.6g}")
    # a neuron with everything in it, against central differences
    x0 = rng.standard_normal(5)

    def neuron(x):
        v = [Value(t) for t in x]
        h = (v[0] * v[1] + v[2] ** 2).tanh()
        return v, (h * v[3].exp() - v[4] / (v[0] + 3.0)) * 2.0
    v = run(lambda: neuron(x0))
    got = np.array([t.grad for t in v])
    num = np.zeros(5)
    for i in range(5):
        e = np.zeros(5)
        e[i] = 1e-6
        num[i] = (learner.call(lambda: neuron(x0 + e)[1].data)
                  - learner.call(lambda: neuron(x0 - e)[1].data)) / 2e-6
    if rel_error(got, num) > 1e-5:
        report.fail("a neuron tanh(x0·x1 + x2²)·e^x3 − x4/(x0 + 3)", f"gradients {np.round(got, 6)} "
                    f"differ from finite differences {np.round(num, 6)}")
    return "every operation's backward, a reused node and a neuron agree with the chain rule"
