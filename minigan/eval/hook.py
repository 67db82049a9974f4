"""Per-epoch sample-quality metrics for ``minigan.gan.GANTrainer`` (its ``epoch_metrics`` hook).

    from minigan.eval.hook import mnist_epoch_metrics
    trainer = gan.GANTrainer(G, D, cfg, ..., epoch_metrics=mnist_epoch_metrics())

At every epoch end the hook draws the same ``n`` noise vectors (500 offline, 1,000 with the
full MNIST; ``trainer.sample(n)``: fixed seed, eval mode), scores the generated digits with
the evaluation classifier (metrics.py) and returns the numbers; the trainer adds them to the
epoch row of ``metrics.csv`` and to the epoch line. The hook also redraws
``eval_metrics.png`` in the run's folder. Columns:

    classes      classes covered (of 10; a class needs ≥ 1/4 of its uniform share)
    kl_uniform   KL divergence of the class histogram from uniform (0 ideal, 2.30 collapsed)
    confidence   mean top-class probability
    fd           Fréchet distance of classifier features, generated vs real training digits
    inception    classifier-based inception score (10 ideal)
    class_hist   the predicted-class counts, "n0/n1/.../n9"
    eval_s       seconds the evaluation took (generation + scoring)
"""
import os
import time

import numpy as np

from .evaluator import Evaluator

EVAL_PNG = "eval_metrics.png"
DEFAULT_SAMPLES = 1000


class EpochMetrics:
    """``fn(trainer) -> dict`` for ``GANTrainer(epoch_metrics=[...])``; see the module docstring.

    evaluator: a :class:`minigan.eval.Evaluator`; by default the standard network shipped
    with minigan (``Evaluator.load()``), loaded at the first epoch end (so smoke runs that
    never finish an epoch cost nothing).
    n: samples per evaluation (default: as many as the real held-out digits the classifier's
    floor FD was measured on — 500 offline, 1,000 with the full MNIST — so both FDs carry the
    same sample-size bias and compare directly). plot: write ``eval_metrics.png`` into the
    trainer's output folder. If the metrics cannot be computed (the classifier's file is
    missing or damaged, samples that are not 28x28 digits) the reason is printed once and training goes on
    without them.
    """

    def __init__(self, evaluator=None, n=None, plot=True, data_dir=None, say=print):
        self.evaluator, self.n_requested, self.plot = evaluator, n, plot
        self.data_dir, self.say = data_dir, say or (lambda msg: None)
        self.disabled = None      # the reason, once the metrics were given up

    def _load(self):
        if self.evaluator is None:
            self.evaluator = Evaluator.load(verbose=True)
        return self.evaluator

    @property
    def n(self):
        meta = self.evaluator.meta if self.evaluator is not None else {}
        return int(self.n_requested or meta.get("real_fd_n") or DEFAULT_SAMPLES)

    @property
    def real_fd(self):
        """The floor FD (real held-out digits) when it was measured on ``n`` digits too."""
        meta = self.evaluator.meta if self.evaluator is not None else {}
        same_n = meta.get("real_fd_n") == self.n
        return float(meta["real_fd"]) if meta.get("real_fd") is not None and same_n else None

    def __call__(self, trainer):
        if self.disabled:
            return {}
        shape = tuple(trainer.image_shape or ())
        try:
            if shape not in ((1, 28, 28), (28, 28)):
                raise ValueError(f"the MNIST metrics need 28x28 grayscale samples, but this "
                                 f"generator makes {shape}")
            evaluator = self._load()
        except (OSError, ValueError, RuntimeError) as e:
            self.disabled = str(e)
            self.say(f"minigan.eval: no sample-quality metrics for this run ({e})")
            return {}
        t1 = time.perf_counter()
        samples = trainer.sample(self.n)
        scores = evaluator.score(samples, value_range=trainer.value_range)
        row = {"classes": scores.coverage, "kl_uniform": round(scores.kl_uniform, 4),
               "confidence": round(scores.confidence, 4), "fd": round(scores.frechet, 3),
               "inception": round(scores.inception_score, 3),
               "class_hist": "/".join(str(int(c)) for c in scores.histogram),
               "eval_s": round(time.perf_counter() - t1, 2)}
        if self.plot and getattr(trainer, "out_dir", None):
            rows = [r for r in trainer.history if r.get("kind") == "epoch" and "fd" in r]
            rows.append(dict(row, epoch=trainer.step // trainer.steps_per_epoch))
            plot_eval_metrics(rows, os.path.join(trainer.out_dir, EVAL_PNG), real_fd=self.real_fd,
                              title=(trainer.run_config or {}).get("title"))
        return row


def mnist_epoch_metrics(dataset="mnist", n=None, data_dir=None, say=print):
    """The hooks to pass as ``epoch_metrics`` for an MNIST GAN: ``[EpochMetrics(...)]``, or
    ``[]`` for another data set (the classifier knows digits only). Nothing is loaded until
    the first epoch ends."""
    if dataset != "mnist":
        return []
    return [EpochMetrics(n=n, data_dir=data_dir, say=say)]


def _column(rows, key):
    return np.array([float(r[key]) if r.get(key, "") not in ("", None) else np.nan for r in rows])


def plot_eval_metrics(rows, path, real_fd=None, title=None):
    """Four panels against the epoch: classes covered, Fréchet distance (log scale, with the
    real held-out digits' value as a dashed floor when known), KL from uniform and mean
    confidence, inception score. ``rows``: dicts with the hook's keys and ``epoch``."""
    from ..files.figures import new_figure, save_figure
    fig = new_figure(10, 6.5)
    epochs = _column(rows, "epoch")
    axes = [fig.add_subplot(2, 2, i) for i in range(1, 5)]
    ax = axes[0]
    ax.plot(epochs, _column(rows, "classes"), "o-", color="tab:blue")
    ax.set_ylim(0, 10.5)
    ax.set_ylabel("classes covered (of 10)")
    ax = axes[1]
    fd = _column(rows, "fd")
    ax.plot(epochs, fd, "o-", color="tab:red", label="generated vs real")
    if real_fd is not None:
        ax.axhline(real_fd, color="gray", linestyle="--", label="real held-out digits")
    if np.nanmin(fd, initial=np.inf) > 0:
        ax.set_yscale("log")
    ax.set_ylabel("Fréchet distance (classifier features)")
    ax.legend(loc="upper right")
    ax = axes[2]
    ax.plot(epochs, _column(rows, "kl_uniform"), "o-", color="tab:purple",
            label="KL(classes ‖ uniform)")
    ax.plot(epochs, _column(rows, "confidence"), "s-", color="tab:green", label="mean confidence")
    ax.set_ylabel("KL (nats) / confidence")
    ax.legend(loc="upper right")
    ax = axes[3]
    ax.plot(epochs, _column(rows, "inception"), "o-", color="tab:orange")
    ax.set_ylim(0, 10.5)
    ax.set_ylabel("inception score (of 10)")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    fig.suptitle((title + ": " if title else "") + "sample quality per epoch (minigan.eval)")
    return save_figure(fig, path)           # atomically: a kill mid-write leaves no torn PNG
