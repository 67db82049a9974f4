"""One check per exercise: random cases, the learner's functions against finite differences
and against minigan's own layer, and the usual mistakes recognised (grading.py).

common    the registry, one graded case of a layer, random cases until one fails
scalars   1 the chain rule on a Value
layers    2 Linear, 3 LeakyReLU/Tanh, 6 Conv2d and col2im, 7 ConvTranspose2d, 8 BatchNorm, 9 Dropout
losses    4 BCE with logits, 5 softmax cross-entropy
training  10 Adam, 11 the GAN step
"""
from . import layers, losses, scalars, training  # noqa: F401  (each registers its checks)
from .common import CHECKS, run_check

__all__ = ["CHECKS", "run_check"]
