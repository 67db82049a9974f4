"""Gradient checking: compare each hand-written backward with finite differences.

For a module, the scalar tested is f = Σ y·R, a fixed random projection R of the output
y = m(x) (a random R, not all ones: with all ones, e.g. BatchNorm's true input gradient is
exactly zero and a broken backward could pass). Its analytic gradients are
``m.backward(R)`` for the input and ``p.grad`` for every parameter. For a loss, f is the
loss itself and ``loss.backward()`` its gradient. The numeric gradients are fourth-order
central differences, element by element (a random subset of elements for large tensors):

    f'(θ) ≈ [8·(f(θ + h) − f(θ − h)) − (f(θ + 2h) − f(θ − 2h))] / 12h,    h = 1e-4.

Why this stencil and step: a finite difference has two errors, truncation (the curvature of f)
and cancellation (f is only known to about ε·|f|, ε = 1.1e-16 in float64, so a difference over
a step h carries about ε·|f|/h of noise). The two-point difference (f(θ+h) − f(θ−h))/2h has
truncation h²·f‴/6 and needs a tiny h, which lets the noise grow: a cross-entropy over 16 rows
of logits scaled by 3 (f ≈ 3.6, gradient entries down to ~1e-4) gave errors near 1e-5 at
h = 1e-6. The four-point stencil's truncation is h⁴·f⁽⁵⁾/30, so h can be 100× larger and both
errors fall far below the tolerance (at most 5e-8 on every layer and loss of the test suite).
Inputs must keep 2h = 2e-4 away from kinks (ReLU at 0, ties of a max).

The error reported per tensor is the worst, over the checked elements, of
|analytic − numeric| / max(|analytic|, |numeric|, 1e-3·G, 1e-10), where G is the largest
|numeric| gradient of the whole check: the floor keeps finite-difference noise on entries
whose true gradient is ~0 (e.g. a conv bias followed by BatchNorm) from counting as error.
"""
from dataclasses import dataclass, field

import numpy as np

from .backend import asnumpy, device_of, fixed_rng, get_array_module
from .nn.module import Module


@dataclass
class GradcheckReport:
    """``ok`` is True when every error is below ``tolerance``; ``errors`` maps
    "input" and each parameter name to its worst relative error."""
    ok: bool
    errors: dict = field(default_factory=dict)
    tolerance: float = 1e-5

    def __str__(self):
        lines = [f"gradcheck {'passed' if self.ok else 'FAILED'} (tolerance {self.tolerance:g})"]
        lines += [f"  {name:<24} {err:.2e}{'' if err < self.tolerance else '  <-- wrong'}"
                  for name, err in self.errors.items()]
        return "\n".join(lines)


def _relative_error(analytic, numeric, scale):
    analytic, numeric = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    if analytic.size == 0:
        return 0.0
    floor = max(1e-3 * scale, 1e-10)
    denom = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)
    return float((np.abs(analytic - numeric) / denom).max())


def _hold_state(module, held):
    for m in module.modules():
        object.__setattr__(m, "_state_held", held)


def gradcheck(fn, x, target=None, eps=1e-4, tolerance=1e-5, max_elements=200, seed=0):
    """Check ``fn``'s backward at input ``x`` (a module, or a loss with ``target``); ``eps`` is
    the finite-difference step h (see the module docstring).

    Runs in float64: a module must be float64 already (``module.double()``); ``x`` (and
    ``target``) are converted. Frozen parameters (``requires_grad = False``) are not checked
    (they have no gradient) and every parameter's ``grad`` is left as it was; state a training
    forward updates (SpectralNorm's power iteration) is held after the first forward. Random
    parts of a forward (Dropout's mask) are replayed identically at every evaluation (a
    fixed-seed generator during each forward).
    Returns a :class:`GradcheckReport`.
    """
    if not (isinstance(eps, (int, float)) and eps > 0 and np.isfinite(eps)):
        raise ValueError(f"gradcheck: eps (the finite-difference step) must be > 0, got {eps!r}")
    try:
        return _gradcheck(fn, x, target, eps, tolerance, max_elements, seed)
    finally:
        if isinstance(fn, Module):
            _hold_state(fn, False)


def _gradcheck(fn, x, target, eps, tolerance, max_elements, seed):
    xp = get_array_module(x)
    is_module = isinstance(fn, Module)
    if is_module and fn.dtype not in (None, np.float64):
        raise TypeError(f"gradcheck: {type(fn).__name__} has dtype {fn.dtype}; finite differences "
                        f"need float64 — call module.double() first")
    if is_module and fn.device is not None and fn.device != device_of(x):
        raise ValueError(f"gradcheck: input is on {device_of(x)!r}, module on {fn.device!r}")
    x = x.astype(np.float64)  # a copy we may perturb; keeps x's memory layout
    if target is not None:
        target = xp.asarray(target, dtype=np.float64)
    if not is_module and target is None:
        raise ValueError("gradcheck: a loss needs target=...")
    picker = np.random.default_rng(seed)
    device = device_of(x)

    def forward():
        with fixed_rng("cpu", seed), fixed_rng(device, seed):   # the same Dropout mask every
            return fn(x)                                         # time (keys come from the CPU)

    if is_module:
        y = forward()
        projection = xp.asarray(picker.standard_normal(y.shape))
        # state a training forward moves (SpectralNorm's u, v) stays where the first forward left
        # it: the backward treats it as constant, so every evaluation of f must see the same
        _hold_state(fn, True)

        def f():
            return float((forward() * projection).sum())

        trained = [(name, p) for name, p in fn.named_parameters() if p.requires_grad]  # frozen: no
        saved = {name: p.grad.copy() for name, p in trained}                          # gradient
        for _, p in trained:
            p.grad[...] = 0
        analytic = {"input": fn.backward(projection)}
        for name, p in trained:
            analytic[name] = p.grad.copy()
            p.grad[...] = saved[name]
        tensors = {"input": x}
        tensors.update({name: p.data for name, p in trained})
    else:
        def f():
            return float(fn(x, target))

        f()
        analytic = {"input": fn.backward()}
        tensors = {"input": x}

    numerics = {}
    for name, array in tensors.items():
        flat_index = np.arange(array.size)
        if array.size > max_elements:
            flat_index = np.sort(picker.choice(array.size, max_elements, replace=False))
        numeric = np.empty(len(flat_index))
        for k, i in enumerate(flat_index):
            idx = np.unravel_index(i, array.shape)
            original = float(array[idx])

            def f_at(step):
                array[idx] = original + step
                return f()

            numeric[k] = (8 * (f_at(eps) - f_at(-eps)) - (f_at(2 * eps) - f_at(-2 * eps))) / (12 * eps)
            array[idx] = original
        numerics[name] = (flat_index, numeric)
    scale = max((float(np.abs(n).max()) for _, n in numerics.values() if n.size), default=0.0)
    errors = {}
    for name, (flat_index, numeric) in numerics.items():
        grad = asnumpy(analytic[name]).reshape(-1)[flat_index]
        errors[name] = _relative_error(grad, numeric, scale)
    if is_module:
        forward()  # leave the module's cache consistent with x
    return GradcheckReport(ok=all(e < tolerance for e in errors.values()), errors=errors,
                           tolerance=tolerance)
