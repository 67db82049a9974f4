"""Inverted dropout, its mask a function of (key, sample, feature) by a counter-based generator."""
import numpy as np

from ..arrays import get_array_module
from ..backend import rng
from ..dispatch import fast_version
from ..philox import philox4x32
from .module import Module


def keep_threshold(p):
    """t = round(p·2³²): a 32-bit word w keeps its element when w ≥ t, so with probability
    1 − t/2³² (= 1 − p within 2⁻³³; t = 2³² drops everything, t = 0 keeps everything)."""
    return min(2 ** 32, int(round(p * 2 ** 32)))


def keep_mask(key, p, n_samples, features, first_sample=0, chunk=1 << 14):
    """Which elements Dropout keeps, as a bool array (n_samples, features) — the plain NumPy
    reference for the numba and CUDA kernels (kernels/dropout.py), which make the same bits.

    Element (sample n, feature f), with F features per sample (f is the index into the sample
    flattened in C order, e.g. f = (c·H + h)·W + w for an image) and B = ⌈F/4⌉:

        block   = (first_sample + n)·B + ⌊f/4⌋          (a 64-bit Philox counter)
        keep    = [ word (f mod 4) of Philox4x32-10(block, key)  ≥  keep_threshold(p) ]

    One Philox block (four 32-bit words) decides four features of one sample. The decision
    depends on the key, the sample's index first_sample + n and f only — not on the batch
    size, the memory layout or the number of threads — so a data-parallel worker that holds
    samples [s, s + n) of a global batch computes exactly its slice of the global mask by
    passing first_sample = s (with the same key: the workers' generators in the same state).
    The blocks of samples [s, s + n) are the contiguous counter range [s·B, (s + n)·B), drawn
    here in chunks that stay in cache (3× faster than one pass over the whole batch).
    """
    B = -(-features // 4)
    keep = np.empty((n_samples, B, 4), dtype=bool)          # (sample, block, word)
    blocks = keep.reshape(-1, 4)                            # row b: block first_sample·B + b
    threshold = np.uint64(keep_threshold(p))
    for start in range(0, len(blocks), chunk):
        counters = np.arange(start, min(start + chunk, len(blocks)), dtype=np.uint64)
        words = philox4x32(counters + np.uint64(first_sample) * np.uint64(B), key)
        for i, w in enumerate(words):
            np.greater_equal(w, threshold, out=blocks[start:start + len(counters), i])
    return keep.reshape(n_samples, 4 * B)[:, :features]


def inverse_keep_probability(p):
    """1/(1 − p), the factor a kept element is scaled by (0 when p = 1: nothing is kept)."""
    return 0.0 if p >= 1.0 else 1.0 / (1.0 - p)


@fast_version("dropout")                  # numba / CUDA: the mask made inside the kernel
def dropout(x, key, p, first_sample=0):
    """(y, keep): y = x · keep / (1 − p), keep = :func:`keep_mask` shaped like x."""
    xp = get_array_module(x)
    n, features = x.shape[0], int(np.prod(x.shape[1:], dtype=np.int64))
    keep = xp.asarray(keep_mask(key, p, n, features, first_sample)).reshape(x.shape)
    return x * (keep * x.dtype.type(inverse_keep_probability(p))), keep


@fast_version("dropout_grad")
def dropout_grad(dy, keep, p):
    """dx = dy · keep / (1 − p): the gradient flows through the kept elements only."""
    return dy * (keep * dy.dtype.type(inverse_keep_probability(p)))


class Dropout(Module):
    """Training: y = x · mask / (1 − p), each element kept (mask 1) with probability 1 − p,
    independently; eval: y = x.

    Scaling at training time ("inverted" dropout) keeps E[y] = x, so eval needs no change.
    Backward: dx = dy · mask / (1 − p)  (the same mask; identity in eval).

    The mask: every forward draws a fresh 64-bit Philox key from minigan's CPU generator
    (``mg.seed``, saved in checkpoints; on a GPU too: drawing it needs no GPU), and
    :func:`keep_mask` turns (key, sample, feature) into the keep decisions — on the fast path
    inside the numba or CUDA kernel that applies them, so no random floats are drawn or stored
    (the forward keeps a one-byte mask for the backward). The generator's state therefore
    fixes every mask, a resumed run repeats them exactly, and the CPU and the GPU, the plain and
    the fast path, drop the same elements. ``first_sample`` (default 0) is the index of this
    batch's first sample in a larger global batch, for data-parallel training (see
    :func:`keep_mask`).
    """

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = float(p)
        self.first_sample = 0

    def forward(self, x):
        self._check_input(x, range(1, 9))
        if not (self.training and self.p > 0.0):
            self._cache = (None, x.shape, x)
            return x
        key = tuple(int(k) for k in rng("cpu").integers(0, 2 ** 32, size=2, dtype=np.uint64))
        y, keep = dropout(x, key, self.p, self.first_sample)
        self._cache = (keep, x.shape, x)
        return y

    def backward(self, grad_output, need_input_grad=True):   # dL/dx is always computed
        keep, shape, x = self._get_cache()
        self._check_grad(grad_output, shape, x)
        return grad_output if keep is None else dropout_grad(grad_output, keep, self.p)

    def mask(self):
        """The scaled mask mask/(1 − p) of the last forward (None in eval or with p = 0)."""
        keep, _, x = self._get_cache()
        return None if keep is None else keep * x.dtype.type(inverse_keep_probability(self.p))

    def extra_repr(self):
        return f"p={self.p}"
