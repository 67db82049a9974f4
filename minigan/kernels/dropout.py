"""Fast Dropout (nn/dropout.py): the keep mask made by Philox inside the kernel that applies it
(numba on the CPU, CUDA on the GPU; the same bits as nn/dropout.py's ``keep_mask``), on the
batch-last layout (layout.py); the backward reads the one-byte mask it kept."""
import numpy as np

from ..dispatch import register
from ..nn.dropout import inverse_keep_probability, keep_threshold
from . import ops
from .layout import batch_first, batch_last


@register("dropout")
def dropout(x, key, p, first_sample=0):
    x_t = batch_last(x)                                       # (..., N)
    if not x_t.flags.c_contiguous:                            # not a fast layer's output
        return NotImplemented
    n, features = x.shape[0], int(np.prod(x.shape[1:], dtype=np.int64))
    fast = ops.dropout_philox(x_t.reshape(features, n), key, keep_threshold(p),
                              inverse_keep_probability(p), first_sample)
    if fast is None:
        return NotImplemented
    y2, keep2 = fast                                          # (F, N), batch-last
    return tuple(batch_first(a.reshape(x_t.shape)) for a in (y2, keep2))


@register("dropout_grad")
def dropout_grad(dy, keep, p):
    dx = ops.dropout_keep_grad(dy, keep, inverse_keep_probability(p))
    return NotImplemented if dx is None else dx
