"""TrainConfig: the hyper-parameters of a GAN run, saved in every checkpoint."""
import math
import numbers
from dataclasses import asdict, dataclass, fields

LOSSES = ("bce_logits", "bce", "mse", "hinge")
NOISES = ("normal", "uniform", "ones")


@dataclass
class TrainConfig:
    """Hyper-parameters of a GAN run (saved in every checkpoint).

    z_dim / noise: the generator's input, ``normal`` N(0, 1), ``uniform`` U[0, 1) or ``ones``.
    batch_size; epochs (total); max_steps (total; None = no limit); steps_per_epoch (None: data
    size // batch_size; required when real data come from a sampler function).
    loss: ``bce_logits`` (D outputs logits), ``bce`` (D outputs probabilities), ``mse`` or
    ``hinge`` (D outputs scores; D: max(0, 1 ∓ score), G: −score).
    ema: decay of the average of G's weights that samples (ema.py); 0: no average.
    ema_statistics: noise samples (in batches of 100) from which the average's BatchNorm
    statistics are recomputed before it samples (standing statistics); 0: G's are used.
    optimizer ``adam`` or ``sgd``; lr_g, lr_d, betas_g, betas_d (betas: Adam only).
    real_label / fake_label: (low, high) — each target drawn uniformly from it per sample
    (low == high: hard labels); flip_prob: chance per sample that real and fake targets swap.
    sample_every / checkpoint_every: steps between extra grids / checkpoints (0: epoch ends).
    log_every: steps per metrics row (its numbers are means over those steps).
    n_fixed: fixed-noise samples in each grid; grid_nrow: images per grid row.
    diversity_every: steps between diversity checks (0: about 4 per epoch).
    health_patience: steps a failure condition must last before it is reported.
    """
    z_dim: int = 100
    noise: str = "normal"
    batch_size: int = 64
    epochs: int = 25
    max_steps: int = None
    steps_per_epoch: int = None
    loss: str = "bce_logits"
    optimizer: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas_g: tuple = (0.5, 0.999)
    betas_d: tuple = (0.5, 0.999)
    real_label: tuple = (1.0, 1.0)
    fake_label: tuple = (0.0, 0.0)
    flip_prob: float = 0.0
    seed: int = 0
    sample_every: int = 0
    checkpoint_every: int = 0
    log_every: int = 1
    n_fixed: int = 64
    grid_nrow: int = None
    diversity_every: int = 0
    health_patience: int = 100
    ema: float = 0.0
    ema_statistics: int = 0

    def __post_init__(self):
        for f in fields(self):                     # types first: a checkpoint's config is text
            value = getattr(self, f.name)
            if f.type is int and not (value is None and f.default is None) and not _whole(value):
                raise ValueError(f"{f.name} must be a whole number, got {value!r}")
            if f.type is float and not _finite(value):
                raise ValueError(f"{f.name} must be a finite number, got {value!r}")
            if f.type is str and not isinstance(value, str):
                raise ValueError(f"{f.name} must be a string, got {value!r}")
            if f.type is tuple and not (isinstance(value, (list, tuple)) and len(value) == 2
                                        and all(_finite(v) for v in value)):
                raise ValueError(f"{f.name} must be a pair of finite numbers, got {value!r}")
        for name in ("betas_g", "betas_d", "real_label", "fake_label"):
            setattr(self, name, tuple(float(v) for v in getattr(self, name)))
            low, high = getattr(self, name)
            if name.startswith("betas") and not (0 <= low < 1 and 0 <= high < 1):
                raise ValueError(f"{name} must be two numbers in [0, 1), got {[low, high]}")
            if name.endswith("label") and low > high:
                raise ValueError(f"{name} must be (low, high) with low <= high, got {[low, high]}")
        for name in ("lr_g", "lr_d"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("sample_every", "checkpoint_every", "diversity_every", "health_patience",
                     "seed"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.steps_per_epoch is not None and self.steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be >= 1 (or None), got {self.steps_per_epoch}")
        if self.grid_nrow is not None and self.grid_nrow < 1:
            raise ValueError(f"grid_nrow must be >= 1 (or None), got {self.grid_nrow}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.noise not in NOISES:
            raise ValueError(f"noise must be one of {NOISES}, got {self.noise!r}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        for name in ("batch_size", "epochs", "z_dim", "log_every", "n_fixed"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1 (or None), got {self.max_steps}")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1) (0: off), got {self.ema}")
        if int(self.ema_statistics) < 0:
            raise ValueError(f"ema_statistics must be >= 0 (0: off), got {self.ema_statistics}")
        if not 0.0 <= self.flip_prob <= 1.0:
            raise ValueError(f"flip_prob must be in [0, 1], got {self.flip_prob}")

    def to_dict(self):
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d):
        """The config saved by :meth:`to_dict` (unknown keys ignored; every value checked)."""
        if not isinstance(d, dict):
            raise ValueError(f"the training settings must be a JSON object, got {type(d).__name__}")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def _whole(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _finite(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
