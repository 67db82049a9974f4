"""Evaluator: the evaluation classifier plus the feature statistics of real digits, scoring
batches of generated digits (the numbers of metrics.py)."""
from .classifier import default_classifier_path, describe_classifier, identify_classifier, load_classifier
from .metrics import COVERAGE_MIN_SHARE, score_predictions
from .train_classifier import train_and_cache


class Evaluator:
    """A classifier plus the feature statistics of real training digits; scores batches.

    ``Evaluator.load()`` uses the standard network shipped with minigan; ``load(path)`` the
    weights in a file (only read); ``load(retrain=True)`` trains a new one (non-standard).
    ``Evaluator(model, ref_mu, ref_sigma)`` wraps any trained MNISTClassifier.
    """

    def __init__(self, classifier, ref_mu, ref_sigma, meta=None):
        self.classifier = classifier.eval()
        self.ref_mu, self.ref_sigma = ref_mu, ref_sigma
        self.meta = dict(meta or {})

    @classmethod
    def load(cls, path=None, device="cpu", retrain=False, verbose=True, **train_kw):
        """The standard network (default), the weights in ``path`` (only read), or with
        ``retrain=True`` a newly trained one (``train_kw`` go to ``train_and_cache``), saved at
        ``path`` or the per-user cache."""
        if retrain:
            path = path or default_classifier_path()
            if verbose:
                print(f"minigan.eval: training a new classifier into {path} (~1-2 min); its "
                      f"Fréchet distances are not comparable with the standard network's")
            model, meta = train_and_cache(path=path, device=device, verbose=verbose, **train_kw)
            meta = identify_classifier(meta, path)
        else:
            model, meta = load_classifier(path, device)
        return cls(model, meta["ref_mu"], meta["ref_sigma"], meta)

    def describe(self):
        """Which network scores: the standard one, or a named non-standard file."""
        return describe_classifier(self.meta)

    def score(self, images, value_range="tanh", batch_size=500, min_share=COVERAGE_MIN_SHARE):
        """DigitScores for ``images`` — (N, 28, 28) or (N, 1, 28, 28); uint8 0..255, or float
        in ``value_range`` "tanh" ([-1, 1], minigan's generators) or "unit" ([0, 1])."""
        probs, features = self.classifier.predict(images, value_range, batch_size)
        return score_predictions(probs, features, self.ref_mu, self.ref_sigma, min_share)
