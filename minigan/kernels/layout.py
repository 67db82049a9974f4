"""Memory layout: logically NCHW, physically batch-last.

Every array a layer takes or returns has PyTorch's logical shape — (N, C, H, W) for images,
(N, F) for features — so indexing, reshaping and copying weights to and from PyTorch work as
a learner expects. In memory, though, the fast versions of minigan's layers (this package)
keep the batch as the **last** axis:
an activation is stored as a C-contiguous (C, H, W, N) array and handed out as the
transposed view ``y.transpose(3, 0, 1, 2)``, which has the NCHW shape and costs nothing.

Why: with the batch innermost, a convolution is one plain GEMM,
``W (Cout, C·kh·kw) @ columns (C·kh·kw, Ho·Wo·N) -> (Cout, Ho, Wo, N)``, whose result is
already the next layer's layout (no transpose copy), and col2im adds contiguous rows of N
numbers instead of stride-2 scattered ones. Per-channel reductions (BatchNorm) become
reductions over one contiguous block per channel.

The plain layers (minigan/nn/) accept and return any layout; only the plain convolutions
move the batch last themselves, for the same reason. The fast versions call
:func:`batch_last` on the way in (free for arrays minigan produced; an ordinary
NCHW array from the user becomes a strided view and is copied at most once, by the first
operation that needs contiguous data) and :func:`batch_first` on the way out.
"""


def batch_last(x):
    """View of (N, d1, ..., dk) as (d1, ..., dk, N)."""
    return x.transpose(tuple(range(1, x.ndim)) + (0,))


def batch_first(x):
    """View of (d1, ..., dk, N) as (N, d1, ..., dk); inverse of :func:`batch_last`."""
    return x.transpose((x.ndim - 1,) + tuple(range(x.ndim - 1)))


def contiguous_batch_last(x):
    """``batch_last(x)`` as a C-contiguous array (a copy only when it is not one already)."""
    xp_view = batch_last(x)
    if xp_view.flags.c_contiguous:
        return xp_view
    return xp_view.copy()  # .copy() is C order on both NumPy and CuPy


def random_like(gen, x):
    """Uniform [0, 1) numbers shaped like ``x`` and laid out in memory like ``x``.

    Elementwise ops between arrays of different memory order are many times slower than
    between matching ones, so a mask meant for ``x`` is drawn in ``x``'s own order.
    """
    if batch_last(x).flags.c_contiguous and not x.flags.c_contiguous:
        return batch_first(gen.random(batch_last(x).shape, dtype=x.dtype))
    return gen.random(x.shape, dtype=x.dtype)
