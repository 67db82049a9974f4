"""Training-health checks: warnings a learner can act on, each printed once with its step.

* **D wins**: the discriminator's loss stays near 0 (or it scores real images ≈ 1 and fakes
  ≈ 0) for many steps. Then D(G(z)) ≈ 0 where the loss is flat, and G learns almost nothing.
* **G loss explodes**: the generator's loss stays very high — the same failure seen from G.
* **Low diversity**: the fixed-noise samples become near copies of each other (their mean
  pairwise distance falls far below its peak): the mode collapse of the tutorials.

The diversity is :func:`mean_pairwise_distance` of the fixed-noise samples. Non-finite losses
are not a warning: the trainer stops on them (see trainer.py).
"""
import numpy as np

__all__ = ["HealthMonitor", "THRESHOLDS", "mean_pairwise_distance"]

# (D loss below which D "wins", G loss above which it "explodes") per loss kind. The D loss is
# the sum of the real and fake terms. BCE: 0.05 ≈ D(x) 0.975 and D(G(z)) 0.025 at once; a G
# loss of 8 means D(G(z)) ≈ e^-8 ≈ 0.0003. MSE losses live in [0, 1] per term.
THRESHOLDS = {"bce_logits": (0.05, 8.0), "bce": (0.05, 8.0), "mse": (0.01, 0.9),
              "hinge": (0.05, 10.0)}     # hinge: D past both margins; G: D scores fakes below −10


class HealthMonitor:
    """Watches the per-step numbers and the sample diversity; prints each warning once.

    patience: consecutive steps a condition must hold before it is reported.
    collapse_ratio: diversity below this fraction of its peak (and below half the real
    images' diversity, when known) counts as collapse.
    say: a function taking the message (default ``print``).
    probabilities: D's outputs are probabilities (not MSE scores), so D(x) > 0.98 with
    D(G(z)) < 0.02 also means "D wins". hard_labels: targets are exactly 1 and 0; with soft
    labels the loss no longer has 0 as its floor and only the probabilities are used.
    """

    def __init__(self, loss="bce_logits", patience=100, collapse_ratio=0.25, min_checks=3,
                 say=print, probabilities=True, hard_labels=True, warmup_steps=0,
                 real_ratio=0.1):
        self.d_floor, self.g_ceiling = THRESHOLDS[loss]
        if not hard_labels:     # soft targets (e.g. up to 1.1) move the loss's minimum: use
            self.d_floor = -float("inf")    # only D(x) and D(G(z)) to judge D's dominance
        self.patience, self.collapse_ratio, self.min_checks = patience, collapse_ratio, min_checks
        self.warmup_steps, self.real_ratio = warmup_steps, real_ratio
        self.probabilities = probabilities
        self.say = say
        self.d_wins_run = 0
        self.g_high_run = 0
        self.diversity_peak = None
        self.diversity_checks = 0
        self.low_run = 0
        self.real_diversity = None
        self.issued = {}          # warning name -> step it was issued at

    # --- per step --------------------------------------------------------------------------
    def check_step(self, step, loss_D, loss_G, D_x, D_G_z):
        """Update the counters with one step's numbers; returns the names of new warnings."""
        new = []
        d_wins = loss_D < self.d_floor or (self.probabilities and D_x > 0.98 and D_G_z < 0.02)
        self.d_wins_run = self.d_wins_run + 1 if d_wins else 0
        if self.d_wins_run >= self.patience:
            new += self._warn("d_wins", step, (
                f"the discriminator is winning: for {self.d_wins_run} steps its loss has been "
                f"near 0 (now {loss_D:.3g}; D(x) {D_x:.3f}, D(G(z)) {D_G_z:.3f}), so the generator "
                f"gets almost no gradient. Try label smoothing (--label-smoothing), a lower D "
                f"learning rate (--lr-d), or more dropout in D."))
        self.g_high_run = self.g_high_run + 1 if loss_G > self.g_ceiling else 0
        if self.g_high_run >= self.patience or loss_G > 10 * self.g_ceiling:
            new += self._warn("g_explodes", step, (
                f"the generator's loss is exploding: {loss_G:.3g} (above {self.g_ceiling:g} for "
                f"{self.g_high_run} steps; D(G(z)) {D_G_z:.2g}). D rejects every fake with full "
                f"confidence. Try a lower D learning rate (--lr-d), label smoothing, or "
                f"restarting from an earlier checkpoint with a lower learning rate."))
        return new

    # --- per sample check --------------------------------------------------------------------
    def check_diversity(self, step, value):
        """Record the fixed-noise samples' mean pairwise distance; warn on a collapse: a fall
        below ``collapse_ratio`` of its peak (and below half the real images' diversity), or,
        after ``warmup_steps``, staying below ``real_ratio`` of the real images' diversity for
        ``min_checks + 1`` checks in a row (a generator that collapsed from the start never had
        a peak; a short dip early in training is normal and not reported)."""
        self.diversity_checks += 1
        new_peak = self.diversity_peak is None or value > self.diversity_peak
        if new_peak:
            self.diversity_peak = value
        real = self.real_diversity
        fell = (not new_peak and (real is None or value < 0.5 * real)
                and value < self.collapse_ratio * self.diversity_peak)
        low = real is not None and value < self.real_ratio * real
        self.low_run = self.low_run + 1 if low else 0
        never = low and step >= self.warmup_steps and self.low_run >= self.min_checks + 1
        if self.diversity_checks >= self.min_checks and (fell or never):
            real_s = f"; real images: {real:.3f}" if real else ""
            return self._warn("low_diversity", step, (
                f"low sample diversity: the fixed-noise samples' mean pairwise distance is "
                f"{value:.3f}, {100 * value / self.diversity_peak:.0f}% of its peak "
                f"{self.diversity_peak:.3f}{real_s}. Different noise vectors give nearly the same "
                f"image: the generator is collapsing onto a few modes (mode collapse). Look at "
                f"the latest grid; try a lower G learning rate, label smoothing, or (MLP GAN) "
                f"the LeakyReLU + LayerNorm + Adam fix."))
        return []

    def _warn(self, name, step, message):
        if name in self.issued:
            return []
        self.issued[name] = int(step)
        self.say(f"warning [step {step}]: {message}")
        return [name]

    # --- checkpointing -----------------------------------------------------------------------
    def state_dict(self):
        return {"d_wins_run": self.d_wins_run, "g_high_run": self.g_high_run,
                "diversity_peak": self.diversity_peak, "diversity_checks": self.diversity_checks,
                "low_run": self.low_run,
                "real_diversity": self.real_diversity, "issued": dict(self.issued)}

    def load_state_dict(self, state):
        """Restore :meth:`state_dict`'s counters (checked: the same names, numbers, and
        ``issued`` a {warning: step} object)."""
        own = self.state_dict()
        for k, v in state.items():
            number = isinstance(v, (int, float)) and not isinstance(v, bool)
            ok = (isinstance(v, dict) and all(isinstance(s, int) for s in v.values()) if k == "issued"
                  else number or (v is None and k in ("real_diversity", "diversity_peak")))
            if k not in own or not ok:
                raise ValueError(f"its health entry {k!r} is {v!r} (expected the counters "
                                 f"{sorted(own)}, numbers)")
        for k, v in state.items():
            setattr(self, k, dict(v) if k == "issued" else v)


def mean_pairwise_distance(images):
    """Mean over all pairs i < j of the RMS difference √(mean((x_i − x_j)²)) (N ≥ 2).

    A diversity measure: it falls towards 0 when a generator maps different noise vectors to
    (nearly) the same output — the mode collapse of the tutorials.
    """
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    n, d = x.shape
    if n < 2:
        raise ValueError("mean_pairwise_distance needs at least 2 samples")
    sq = (x * x).sum(axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * (x @ x.T), 0.0) / d
    iu = np.triu_indices(n, 1)
    return float(np.sqrt(d2[iu]).mean())
