"""minigan.eval: "is my GAN's result normal, did it collapse?" — answered with numbers.

    from minigan.eval import Evaluator
    ev = Evaluator.load()                         # the standard network shipped with minigan
    scores = ev.score(samples, value_range="tanh")  # (N, 1, 28, 28) digits in [-1, 1]
    print(scores)            # classes covered, KL from uniform, confidence, Fréchet distance, IS

A small CNN trained by minigan itself (classifier.py, train_classifier.py) classifies the
digits; metrics.py turns its outputs into the numbers (definitions there). One trained network
ships with the package (mnist_cnn.npz, CLASSIFIER.md), so everyone's scores come from the same
weights. From the shell:

    python -m minigan.eval OUT/checkpoint.npz     # score a saved generator (or a samples .npy)
    python -m minigan.eval.train_classifier       # train your own network (non-standard)

During GAN training, ``GANTrainer(..., epoch_metrics=minigan.eval.hook.mnist_epoch_metrics())``
adds the numbers to every epoch line and to metrics.csv, and draws eval_metrics.png
(examples/mnist_dcgan.py does this).
"""
from .classifier import (SHIPPED_CLASSIFIER, SHIPPED_SHA256, MNISTClassifier,
                         default_classifier_path, describe_classifier, load_classifier,
                         prepare_images, read_classifier, save_classifier)
from .evaluator import Evaluator
from .metrics import (COVERAGE_MIN_SHARE, DigitScores, class_histogram, classes_covered,
                      feature_statistics, frechet_distance, inception_score, kl_from_uniform,
                      mean_confidence, score_predictions, sqrtm_psd)


__all__ = ["Evaluator", "DigitScores", "MNISTClassifier", "load_classifier", "read_classifier",
           "describe_classifier", "SHIPPED_CLASSIFIER", "SHIPPED_SHA256",
           "save_classifier", "default_classifier_path", "prepare_images", "class_histogram",
           "classes_covered", "kl_from_uniform", "mean_confidence", "inception_score",
           "feature_statistics", "frechet_distance", "sqrtm_psd", "score_predictions",
           "COVERAGE_MIN_SHARE"]
