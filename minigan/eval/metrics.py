"""Sample-quality numbers for generated MNIST digits, from the evaluation classifier.

For a batch of N generated digits the classifier gives class probabilities p(y|x) (N, 10)
and penultimate features f(x) (N, 128). From them:

* **histogram** — how many samples are predicted (argmax) as each class, (10,) counts.
* **coverage** — the number of classes *covered*: a class counts when it gets at least
  ``min_share`` (default 1/4) of its uniform share, i.e. ``count ≥ N / 10 / 4``. 10/10 is
  ideal; a collapsed generator covers 1-3.
* **kl_uniform** — KL(h ‖ u) = Σ_k h_k log(10·h_k) of the normalised histogram h from the
  uniform distribution u (0·log 0 = 0): 0 for a perfectly balanced set, log 10 ≈ 2.30
  when every sample is one class.
* **confidence** — mean over samples of max_k p(k|x): near the classifier's accuracy on real
  digits (~0.98), lower for blurry or ambiguous samples.
* **frechet** — the Fréchet distance between Gaussians fitted to the features of the
  generated digits (μ₁, Σ₁) and of the real training digits (μ₂, Σ₂):

      FD = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^{1/2})

  — the MNIST analogue of FID (which uses Inception-v3 features of ImageNet). 0 for
  identical statistics; it measures quality and diversity together. Tr (Σ₁Σ₂)^{1/2} is
  computed as Tr (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}, which has the same eigenvalues and is
  symmetric, so two ``eigh`` calls suffice (NumPy only, no SciPy). Values depend on the
  classifier and on N (a finite sample has a positive bias), so compare FDs measured with
  the same classifier and sample size; ``python -m minigan.eval`` prints the value for N
  real held-out digits as the floor.
* **inception_score** — exp(E_x KL(p(y|x) ‖ p(y))) with p(y) the mean of p(y|x) over the
  batch: high (up to 10) when each sample is classified confidently *and* the classes are
  balanced; real digits score about 10 × accuracy-ish (≈ 9.5-9.8).
"""
from dataclasses import dataclass, field

import numpy as np

NUM_CLASSES = 10
COVERAGE_MIN_SHARE = 0.25


def class_histogram(probs, num_classes=NUM_CLASSES):
    """Counts (K,) of the predicted (argmax) classes of ``probs`` (N, K)."""
    return np.bincount(np.asarray(probs).argmax(axis=1), minlength=num_classes)


def classes_covered(histogram, min_share=COVERAGE_MIN_SHARE):
    """How many classes get at least ``min_share`` of their uniform share N/K."""
    h = np.asarray(histogram, dtype=np.float64)
    n, k = h.sum(), len(h)
    if n == 0:
        return 0
    return int((h >= min_share * n / k).sum())


def kl_from_uniform(histogram):
    """KL(h ‖ uniform) = Σ_k h_k log(K·h_k) of the normalised histogram, in nats."""
    h = np.asarray(histogram, dtype=np.float64)
    if h.sum() == 0:
        return float("nan")
    h = h / h.sum()
    nz = h > 0
    return float((h[nz] * np.log(len(h) * h[nz])).sum())


def mean_confidence(probs):
    """Mean over samples of the top class probability."""
    return float(np.asarray(probs).max(axis=1).mean())


def inception_score(probs, eps=1e-12):
    """exp(mean_x Σ_y p(y|x) (log p(y|x) − log p(y))), p(y) = mean_x p(y|x)."""
    p = np.asarray(probs, dtype=np.float64)
    marginal = p.mean(axis=0, keepdims=True)
    kl = (p * (np.log(p + eps) - np.log(marginal + eps))).sum(axis=1)
    return float(np.exp(kl.mean()))


def feature_statistics(features):
    """Mean (D,) and unbiased covariance (D, D) of ``features`` (N, D), in float64."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"feature statistics need at least 2 samples of shape (N, D), got "
                         f"{f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def sqrtm_psd(a):
    """Square root of a symmetric positive semi-definite matrix via eigh (negative
    round-off eigenvalues clipped to 0): V diag(√λ) Vᵀ."""
    a = np.asarray(a, dtype=np.float64)
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def trace_sqrt_product(sigma1, sigma2):
    """Tr (Σ₁Σ₂)^{1/2} = Σ √λ_i(Σ₁^{1/2} Σ₂ Σ₁^{1/2}) for PSD Σ₁, Σ₂."""
    s1 = sqrtm_psd(sigma1)
    m = s1 @ np.asarray(sigma2, dtype=np.float64) @ s1
    w = np.linalg.eigvalsh((m + m.T) / 2)
    return float(np.sqrt(np.clip(w, 0, None)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^{1/2}) (clipped at 0 against round-off)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(f"frechet_distance: mismatched statistics: mu {mu1.shape} vs "
                         f"{mu2.shape}, sigma {sigma1.shape} vs {sigma2.shape}")
    diff = mu1 - mu2
    fd = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt_product(sigma1, sigma2)
    return float(max(fd, 0.0))


@dataclass
class DigitScores:
    """The numbers above for one batch of digits (see the module docstring)."""
    n: int
    histogram: np.ndarray
    coverage: int
    kl_uniform: float
    confidence: float
    frechet: float
    inception_score: float
    extra: dict = field(default_factory=dict)

    FIELDS = ("coverage", "kl_uniform", "confidence", "frechet", "inception_score")

    def as_row(self):
        """Flat dict for a CSV row: the five numbers and hist_0..hist_9."""
        row = {name: getattr(self, name) for name in self.FIELDS}
        row.update({f"hist_{k}": int(c) for k, c in enumerate(self.histogram)})
        return row

    def summary(self):
        """One short line for an epoch log."""
        return (f"classes {self.coverage}/{len(self.histogram)} KL {self.kl_uniform:.3f} "
                f"conf {self.confidence:.3f} FD {self.frechet:.2f} IS {self.inception_score:.2f}")

    def __str__(self):
        hist = " ".join(f"{k}:{int(c)}" for k, c in enumerate(self.histogram))
        return (f"{self.n} digits: classes covered {self.coverage}/{len(self.histogram)} "
                f"(≥{COVERAGE_MIN_SHARE:g} of the uniform share), KL from uniform "
                f"{self.kl_uniform:.4f}, mean confidence {self.confidence:.4f}, Fréchet distance "
                f"{self.frechet:.3f}, inception score {self.inception_score:.3f}\n"
                f"  histogram {hist}")


def score_predictions(probs, features, ref_mu, ref_sigma, min_share=COVERAGE_MIN_SHARE):
    """DigitScores from classifier outputs and the reference feature statistics."""
    hist = class_histogram(probs, probs.shape[1])
    mu, sigma = feature_statistics(features)
    return DigitScores(n=len(probs), histogram=hist, coverage=classes_covered(hist, min_share),
                       kl_uniform=kl_from_uniform(hist), confidence=mean_confidence(probs),
                       frechet=frechet_distance(mu, sigma, ref_mu, ref_sigma),
                       inception_score=inception_score(probs))
