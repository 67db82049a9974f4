"""The track: the exercises in order, the learner's folder, and which of them are done.

Each exercise is one file in ``minigan/learn/exercises/`` (package data, copied by ``start``);
the learner completes it in their own folder. Nothing here knows a solution: ``checks.py``
grades against minigan's own layers.
"""
import hashlib
import json
import os
from dataclasses import dataclass

EXERCISE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exercises")
DEFAULT_DIR = "minigan-exercises"
PROGRESS = ".progress.json"          # name -> sha256 of the file when it last passed


@dataclass(frozen=True)
class Exercise:
    name: str          # the file is name + ".py"; the CLI's NAME
    title: str
    replaces: str      # what it swaps in for in `train` ("" if the DCGAN does not use it)

    @property
    def filename(self):
        return self.name + ".py"

    def template_path(self):
        return os.path.join(EXERCISE_DIR, self.filename)

    def template(self):
        with open(self.template_path(), encoding="utf-8") as f:
            return f.read()


TRACK = (
    Exercise("chain_rule", "the chain rule on scalars (a micrograd-sized Value)", ""),
    Exercise("linear", "Linear: y = x Wᵀ + b", "Linear (G's first layer, D's last)"),
    Exercise("activations", "LeakyReLU and Tanh", "LeakyReLU (G and D), Tanh (G's output)"),
    Exercise("bce_logits", "binary cross-entropy with logits", "BCEWithLogitsLoss"),
    Exercise("softmax_ce", "softmax cross-entropy", ""),
    Exercise("conv2d", "Conv2d via im2col, and col2im", "Conv2d (D)"),
    Exercise("conv_transpose2d", "ConvTranspose2d: GEMM + col2im", "ConvTranspose2d (G)"),
    Exercise("batchnorm", "BatchNorm, node by node, then the closed form",
             "BatchNorm1d and BatchNorm2d (G)"),
    Exercise("dropout", "Dropout", "Dropout (D)"),
    Exercise("adam", "Adam", "Adam (both optimizers)"),
    Exercise("gan_step", "the GAN step: detached fake, gradient through a frozen D",
             "the D and G steps"),
)
BY_NAME = {e.name: e for e in TRACK}


def exercise(name):
    """The Exercise called ``name`` (``"linear"``, or ``"linear.py"``), or a ValueError that
    lists the names."""
    key = name[:-3] if name.endswith(".py") else name
    if key not in BY_NAME:
        raise ValueError(f"no exercise {name!r}; the track: {', '.join(e.name for e in TRACK)}")
    return BY_NAME[key]


def digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def learner_path(ex, folder):
    return os.path.join(folder, ex.filename)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def start(folder):
    """Write every exercise file into ``folder``; a file already there is left alone (edited or
    not: the learner's work is never overwritten). Returns [(exercise, "wrote"|"kept"|"same")]."""
    os.makedirs(folder, exist_ok=True)
    done = []
    for ex in TRACK:
        path, text = learner_path(ex, folder), ex.template()
        if os.path.exists(path):
            done.append((ex, "same" if read(path) == text else "kept"))
            continue
        with open(path, "x", encoding="utf-8") as f:     # "x": never replace a file
            f.write(text)
        done.append((ex, "wrote"))
    return done


def load_progress(folder):
    try:
        with open(os.path.join(folder, PROGRESS), encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def record(folder, ex, passed):
    """Remember that ``ex`` passed with the file as it is now (or forget it)."""
    progress = load_progress(folder)
    if passed:
        progress[ex.name] = digest(read(learner_path(ex, folder)))
    else:
        progress.pop(ex.name, None)
    try:
        with open(os.path.join(folder, PROGRESS), "w", encoding="utf-8") as f:
            json.dump(progress, f, indent=1, sort_keys=True)
    except OSError:
        pass                                  # a read-only folder: only `list` loses the mark


def status(ex, folder, progress=None):
    """"not started" (no file), "to do" (the untouched template), "passed" (passed as it is
    now), or "edited" (changed since; run check)."""
    path = learner_path(ex, folder)
    if not os.path.exists(path):
        return "not started"
    text = read(path)
    if text == ex.template():
        return "to do"
    progress = load_progress(folder) if progress is None else progress
    return "passed" if progress.get(ex.name) == digest(text) else "edited"
