"""im2col and col2im: a convolution as one matrix product.

Shapes use minigan's batch-last layout (see layout.py): images are (C, H, W, N).

    im2col:  x (C, H, W, N)  ->  columns (C·kh·kw, Ho·Wo·N)
             columns[(c, i, j), (oh, ow, n)] = x_padded[c, oh·sh + i, ow·sw + j, n]

    col2im:  columns (C·kh·kw, Ho·Wo·N)  ->  x (C, H, W, N), the adjoint of im2col:
             every column entry is *added* back to the pixel it was copied from, and
             entries that came from the zero padding are dropped.

A convolution is then ``W (Cout, C·kh·kw) @ im2col(x)``; its input gradient is
``col2im(W.T @ dy)``. A transposed convolution is the same two steps in the other order
(conv_transpose.py). im2col copies a strided *view* of the padded input once
(:func:`im2col_by_offsets` builds the same columns with one slice per kernel offset, the way
im2col is usually first explained); col2im loops over the kh·kw kernel offsets and adds one
strided slab per offset — no Python loop over the batch or the pixels, and no ``np.add.at``
(whose scattered adds are ~5x slower here). Both run unchanged on CuPy; the fast paths
(kernels/) do each in one pass.
"""
import numpy as np

from .. import backend, kernels
from ..backend import get_array_module


def conv_matmul(a, b, out=None):
    """a @ b, one of a convolution's matrix products. On a GPU with ``mg.backend.conv_tf32``
    set, float32 products run on TF32 tensor cores (as PyTorch's convolutions by default)."""
    xp = get_array_module(a)
    if backend.conv_tf32 and xp is not np and a.dtype == np.float32:
        return kernels.tf32_matmul(a, b, out)
    return xp.matmul(a, b, out=out)


def pair(value, name="value", layer=None, minimum=None):
    """An int or a pair -> a pair of ints; with ``minimum``, each must be at least that
    (a clear error naming ``layer`` and ``name`` otherwise)."""
    where = f"{layer}: " if layer else ""
    if isinstance(value, (int, np.integer)):
        value = (int(value), int(value))
    else:
        try:
            value = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"{where}{name} must be an int or a pair of ints, got {value!r}") from None
    if len(value) != 2:
        raise ValueError(f"{where}{name} must be an int or a pair of ints, got {value!r}")
    if minimum is not None and min(value) < minimum:
        raise ValueError(f"{where}{name} must be at least {minimum}, got {value}")
    return value


def positive_count(layer, name, value):
    """``value`` as an int >= 1, or a clear error naming the layer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


def conv_output_size(size, kernel, stride, padding):
    """Number of kernel positions along one axis: ⌊(size + 2·padding − kernel) / stride⌋ + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def checked_output_size(layer_name, h, w, kernel, stride, padding):
    """(Ho, Wo) of a kernel sliding over an H×W input; a clear error if it does not fit."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    if h + 2 * ph < kh or w + 2 * pw < kw:
        raise ValueError(f"{layer_name}: kernel {kh}x{kw} is larger than the padded "
                         f"input {h + 2 * ph}x{w + 2 * pw} (input {h}x{w}, padding {ph},{pw})")
    return conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)


class Workspace:
    """Scratch arrays a layer reuses from call to call instead of reallocating.

    Large fresh allocations cost page faults on every step; a GEMM writing into a reused
    buffer runs up to 3x faster here. Only a layer's *internal* scratch lives here, never
    an array it returns (the caller may keep that). ``Workspace.reuse = False`` allocates
    afresh every time (to measure what reuse buys: benchmarks/bench_step.py --ablation).
    """

    reuse = True

    def __init__(self):
        self._arrays = {}

    def get(self, name, xp, shape, dtype, zero=False):
        """A reusable array; ``zero=True`` zero-fills it when (re)allocated only."""
        a = self._arrays.get(name) if Workspace.reuse else None
        if a is None or a.shape != tuple(shape) or a.dtype != dtype or get_array_module(a) is not xp:
            a = (xp.zeros if zero else xp.empty)(shape, dtype=dtype)
            self._arrays[name] = a
        return a

    def clear(self):
        self._arrays.clear()


def im2col(x, kernel, stride, padding, out_hw, workspace=None, name="columns"):
    """x (C, H, W, N) -> columns (C·kh·kw, Ho·Wo·N), as described above.

    ``out_hw`` = (Ho, Wo) is passed explicitly so no size is guessed (a transposed conv's
    gradient needs exactly its input's H×W windows, even with output_padding).
    """
    xp = get_array_module(x)
    C, H, W, N = x.shape
    (kh, kw), (sh, sw), (ph, pw), (Ho, Wo) = kernel, stride, padding, out_hw
    ws = workspace or Workspace()
    columns = ws.get(name, xp, (C, kh, kw, Ho, Wo, N), x.dtype)
    if kernels.im2col(x, kernel, stride, padding, out_hw, columns) is not None:
        return columns.reshape(C * kh * kw, Ho * Wo * N)       # numba: the same copy, in parallel
    if ph or pw:
        # Zero border + a copy of x in the middle; the border stays zero between calls.
        padded = ws.get(name + ".padded", xp, (C, H + 2 * ph, W + 2 * pw, N), x.dtype, zero=True)
        padded[:, ph:ph + H, pw:pw + W, :] = x
    else:
        padded = xp.ascontiguousarray(x)
    sc, shh, sww, sn = padded.strides
    windows = xp.lib.stride_tricks.as_strided(
        padded, shape=(C, kh, kw, Ho, Wo, N), strides=(sc, shh, sww, sh * shh, sw * sww, sn))
    columns[...] = windows
    return columns.reshape(C * kh * kw, Ho * Wo * N)


def im2col_by_offsets(x, kernel, stride, padding, out_hw):
    """The same columns, written the way one first explains im2col (as Chainer's ``im2col_cpu``
    and "Deep Learning from Scratch" do): for each kernel offset (i, j), the pixels that offset
    sees at every window position form one strided slice of the padded image,

        columns[c, i, j, oh, ow, n] = x_padded[c, i + oh·sh, j + ow·sw, n].

    kh·kw slice copies; :func:`im2col` makes the same array with one copy of a strided view
    (tests check they are equal). Returns (C·kh·kw, Ho·Wo·N)."""
    xp = get_array_module(x)
    C, H, W, N = x.shape
    (kh, kw), (sh, sw), (ph, pw), (Ho, Wo) = kernel, stride, padding, out_hw
    padded = xp.zeros((C, H + 2 * ph, W + 2 * pw, N), dtype=x.dtype)
    padded[:, ph:ph + H, pw:pw + W, :] = x
    columns = xp.empty((C, kh, kw, Ho, Wo, N), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            columns[:, i, j] = padded[:, i:i + sh * Ho:sh, j:j + sw * Wo:sw, :]
    return columns.reshape(C * kh * kw, Ho * Wo * N)


def _valid_range(offset, stride, padding, size, n_positions):
    """Kernel positions o whose pixel o·stride + offset − padding lies inside [0, size).

    Returns (first position, last position + 1, first pixel); an empty range has first >= last.
    """
    first = max(0, -(-(padding - offset) // stride))          # ceil((p − i) / s), at least 0
    last = min(n_positions, (size - 1 + padding - offset) // stride + 1)
    return first, last, first * stride + offset - padding


def col2im(columns, channels, image_hw, kernel, stride, padding, in_hw):
    """columns (C·kh·kw, Ho·Wo·N) -> image (C, H, W, N): the adjoint of :func:`im2col`.

    ``image[c, oh·sh + i − ph, ow·sw + j − pw, n] += columns[(c, i, j), (oh, ow, n)]`` for
    every kernel offset (i, j), keeping only the pixels that fall inside the H×W image.
    """
    xp = get_array_module(columns)
    (H, W), (kh, kw), (sh, sw), (ph, pw), (Ho, Wo) = image_hw, kernel, stride, padding, in_hw
    N = columns.shape[1] // (Ho * Wo)
    cols = columns.reshape(channels, kh, kw, Ho, Wo, N)
    image = xp.empty((channels, H, W, N), dtype=columns.dtype)
    if kernels.col2im(cols, kernel, stride, padding, image) is not None:
        return image                              # numba: one gather per pixel, in parallel
    image[...] = 0
    for i in range(kh):
        oh0, oh1, h0 = _valid_range(i, sh, ph, H, Ho)
        if oh0 >= oh1:
            continue
        rows = slice(h0, h0 + sh * (oh1 - oh0 - 1) + 1, sh)
        for j in range(kw):
            ow0, ow1, w0 = _valid_range(j, sw, pw, W, Wo)
            if ow0 >= ow1:
                continue
            image[:, rows, w0:w0 + sw * (ow1 - ow0 - 1) + 1:sw, :] += cols[:, i, j, oh0:oh1, ow0:ow1, :]
    return image
