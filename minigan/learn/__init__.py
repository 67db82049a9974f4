"""minigan.learn: a graded exercise track — backprop written by you, from the chain rule on
scalars to the DCGAN trained on your own layers (``python -m minigan.learn --help``,
docs/learn.md).

track     the exercises in order; ``start`` copies them into your folder, never over your edits
checks    one check per exercise: finite differences of your forward along random directions,
          then minigan's own layer on the same numbers (random shapes, strides, γ, β ...)
grading   the comparison, the usual mistakes it recognises, your own traceback on a crash
layers    your functions wrapped as minigan modules, for ``train``
train     the flagship DCGAN with every exercise you passed swapped in
"""
from .track import TRACK, exercise, start

__all__ = ["TRACK", "exercise", "start"]
