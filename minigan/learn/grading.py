"""Grading machinery: load the learner's file, call it, compare what it returns, say what is wrong.

A gradient is graded twice, both in float64:
  1. against finite differences of the learner's own forward, along random directions v:
     ⟨g, v⟩ must equal (L(x + h·v) − L(x − h·v))/(2h) with L = ⟨dy, f(x)⟩ and dy random;
  2. against minigan's own layer on the same numbers (random shapes, strides, γ, β, ...).
When a gradient is wrong, :func:`compare` tries the usual mistakes on the reference (transposed,
not summed over the batch, N times too large or small, sign flipped, plus an exercise's own
wrong variants) and names the one that matches.
"""
import importlib.util
import os
import sys
import traceback

import numpy as np

TOL = 1e-7            # relative error below which a float64 gradient is right
FD_TOL = 1e-5         # ... and against central differences (h = 1e-6)


class Diagnosis:
    """A recognised mistake: ``key`` (stable, for tests) and a sentence for the learner."""

    def __init__(self, key, message):
        self.key, self.message = key, message

    def __repr__(self):
        return f"Diagnosis({self.key!r})"


class Report:
    """What one ``check`` found: per-tensor errors, diagnoses, notes; ``ok`` when nothing failed."""

    def __init__(self, name):
        self.name = name
        self.failures = []        # (tensor, error description)
        self.diagnoses = []       # Diagnosis
        self.notes = []           # extra lines (the case that failed, hints)
        self.crash = None         # the learner's traceback, formatted
        self.not_written = False  # the crash is the template's NotImplementedError
        self.passed_cases = 0
        self.worst = 0.0

    @property
    def ok(self):
        return not self.failures and self.crash is None

    def fail(self, tensor, what, diagnosis=None):
        self.failures.append((tensor, what))
        if diagnosis is not None and diagnosis.key not in {d.key for d in self.diagnoses}:
            self.diagnoses.append(diagnosis)

    def keys(self):
        return [d.key for d in self.diagnoses]

    def lines(self, summary):
        if self.ok:
            return [f"{self.name}: passed — {summary}"]
        if self.not_written:
            return [f"{self.name}: FAILED — {self.crash}"]
        out = [f"{self.name}: FAILED"]
        if self.crash is not None:
            out.append("your code raised an exception:")
            out.extend("  " + line for line in self.crash.rstrip("\n").split("\n"))
        for tensor, what in self.failures:
            out.append(f"  {tensor}: {what}")
        for d in self.diagnoses:
            out.append(f"  diagnosis: {d.message}")
        out.extend("  " + n for n in self.notes)
        return out


class LearnerError(Exception):
    """The learner's code raised: carries the traceback cut down to the learner's own frames."""

    def __init__(self, text, not_written=False):
        super().__init__(text)
        self.text, self.not_written = text, not_written


def in_folder(filename, folder):
    """Is ``filename`` (a traceback frame's) a file in ``folder``? ("<frozen ...>" is not.)"""
    return os.path.isabs(filename) and os.path.realpath(filename).startswith(os.path.realpath(folder) + os.sep)


def learner_traceback(exc, folder):
    """The traceback of ``exc`` with only the frames in ``folder`` (the learner's files) —
    minigan's grading frames are noise to them — and the exception line."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if in_folder(f.filename, folder)]
    lines = traceback.format_list(frames) if frames else []
    lines += traceback.format_exception_only(type(exc), exc)
    return "Traceback (your files only):\n" + "".join(lines)


class Learner:
    """The learner's folder: loads their modules fresh and calls them, turning any exception
    into a LearnerError with their own traceback."""

    def __init__(self, folder):
        self.folder = os.path.abspath(folder)

    def load(self, name):
        """Import ``folder/name.py`` afresh (and, through it, any sibling it imports)."""
        path = os.path.join(self.folder, name + ".py")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} does not exist: run `python -m minigan.learn start "
                                    f"{self.folder}` first")
        for mod in [m for m, v in list(sys.modules.items())
                    if isinstance(getattr(v, "__file__", None), str)
                    and os.path.dirname(os.path.abspath(v.__file__)) == self.folder]:
            del sys.modules[mod]                       # siblings too: a re-check sees new edits
        sys.path.insert(0, self.folder)
        try:
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(name, None)
            raise LearnerError(learner_traceback(exc, self.folder)) from None
        finally:
            sys.path.remove(self.folder)
        return module

    def call(self, fn, *args, **kwargs):
        try:
            with np.errstate(all="ignore"):
                return fn(*args, **kwargs)
        except NotImplementedError as exc:
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if in_folder(f.filename, self.folder)]
            where = f" ({frames[-1].filename}, line {frames[-1].lineno}, in {frames[-1].name})" if frames else ""
            raise LearnerError(f"not written yet: {exc or fn.__name__}{where}.\n"
                               f"Replace the `raise NotImplementedError` with your code.",
                               not_written=True) from None
        except Exception as exc:
            raise LearnerError(learner_traceback(exc, self.folder)) from None


# ----------------------------------------------------------------------------- comparisons
def rel_error(a, b):
    """max |a − b| / max |b| (over 1 when b is tiny), in float64."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = max(float(np.abs(b).max(initial=0.0)), 1e-12)
    return float(np.abs(a - b).max(initial=0.0)) / scale


def close(a, b, tol=TOL):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and rel_error(a, b) <= tol


def as_array(x):
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def compare(report, tensor, got, want, batch=None, candidates=(), against="minigan's layer"):
    """Grade ``got`` (the learner's ∂L/∂tensor) against ``want`` (minigan's). Records a failure
    with the best-matching diagnosis; returns True when right.

    batch: N, the number of rows a mean divides by (for "N times too large/small").
    candidates: [(Diagnosis, wrong_array)] — an exercise's own usual mistakes, computed from the
    reference; the first whose array ``got`` equals is the diagnosis."""
    want = np.asarray(want, np.float64)
    if got is None:
        report.fail(tensor, "returned None (return the gradient as an array)")
        return False
    got = as_array(got)
    if got is None:
        report.fail(tensor, "is not an array of numbers")
        return False
    for diagnosis, wrong in candidates:
        if close(got, wrong) and not close(got, want):
            err = rel_error(got, want) if got.shape == want.shape else float("nan")
            report.fail(tensor, f"wrong (relative error {err:.1e} against {against})", diagnosis)
            return False
    if got.shape != want.shape:
        return _shape_mistake(report, tensor, got, want)
    if not np.all(np.isfinite(got)):
        report.fail(tensor, "contains NaN or inf")
        return False
    err = rel_error(got, want)
    report.worst = max(report.worst, err)
    if err <= TOL:
        return True
    what = f"relative error {err:.1e} against {against}"
    report.fail(tensor, what, _value_mistake(tensor, got, want, batch))
    return False


def _shape_mistake(report, tensor, got, want):
    what = f"has shape {got.shape}, expected {want.shape}"
    if got.ndim == 2 and got.T.shape == want.shape and close(got.T, want):
        report.fail(tensor, what, Diagnosis(
            "transposed", f"{tensor} is the transpose of the right answer: swap the order of the "
            f"product (a gradient always has the shape of what it differentiates, {want.shape})"))
    elif got.ndim == want.ndim + 1 and got.shape[1:] == want.shape and close(got.sum(axis=0), want):
        report.fail(tensor, what, Diagnosis(
            "batch_sum", f"{tensor} is missing the sum over the batch: a parameter is shared by "
            f"all N samples, so its gradient adds up their N contributions (.sum(axis=0))"))
    elif want.ndim == 1 and got.size == 1 and close(got.reshape(()), want.sum()):
        report.fail(tensor, what, Diagnosis(
            "sum_axis", f"{tensor} sums over every axis: sum over the batch only (axis=0), one "
            f"value per feature, {want.shape}"))
    else:
        report.fail(tensor, what)
    return False


def _value_mistake(tensor, got, want, batch):
    if close(got, -want):
        return Diagnosis("sign", f"{tensor} has the wrong sign (flipped): check each minus sign — "
                         f"a gradient points uphill, the step goes against it")
    denom = float((want * want).sum())
    if denom > 0:
        r = float((got * want).sum()) / denom
        if close(got, r * want, 1e-6):
            if batch and abs(r - batch) <= 1e-6 * batch:
                return Diagnosis("mean_vs_sum", f"{tensor} is N = {batch} times too large: the loss "
                                 f"is a MEAN over the batch, so its gradient divides by N")
            if batch and abs(r * batch - 1) <= 1e-6:
                return Diagnosis("mean_vs_sum", f"{tensor} is N = {batch} times too small: a sum "
                                 f"over the batch needs no 1/N here (the loss's mean is already in "
                                 f"dy — do not divide again)")
            return Diagnosis("scale", f"{tensor} is off by a constant factor {r:.4g}: a missing or "
                             f"extra constant in the formula")
    return None


def directional_fd(report, tensor, f, inputs, name, grad, rng, directions=3, h=1e-6):
    """Check ⟨grad, v⟩ against central differences of f (a function of the dict ``inputs``
    returning the scalar L) along ``directions`` random unit directions v. Returns the worst
    relative error, or None when grad has the wrong shape (compare reports that)."""
    x = inputs[name]
    g = as_array(grad)
    if g is None or g.shape != np.shape(x) or not np.all(np.isfinite(g)):
        return None
    worst = 0.0
    for _ in range(directions):
        v = rng.standard_normal(np.shape(x))
        v /= np.linalg.norm(v) or 1.0
        up, down = dict(inputs), dict(inputs)
        up[name], down[name] = x + h * v, x - h * v
        numeric = (f(up) - f(down)) / (2 * h)
        analytic = float((g * v).sum())
        worst = max(worst, abs(numeric - analytic) / max(abs(numeric), abs(analytic), 1e-6))
    if worst > FD_TOL:
        report.fail(tensor, f"disagrees with finite differences of your forward (relative error "
                    f"{worst:.1e} along random directions)")
    return worst
