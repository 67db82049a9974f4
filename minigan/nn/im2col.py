"""im2col and col2im: a convolution as one matrix product.

Images here are batch-last, (C, H, W, N) — the batch as the last axis, so that the GEMM of a
convolution lands directly in (Cout, Ho, Wo, N) with no transpose (conv.py moves it there):

    im2col:  x (C, H, W, N)  ->  columns (C·kh·kw, Ho·Wo·N)
             columns[(c, i, j), (oh, ow, n)] = x_padded[c, oh·sh + i, ow·sw + j, n]

    col2im:  columns (C·kh·kw, Ho·Wo·N)  ->  x (C, H, W, N), the adjoint of im2col:
             every column entry is *added* back to the pixel it was copied from, and
             entries that came from the zero padding are dropped.

A convolution is then ``W (Cout, C·kh·kw) @ im2col(x)``; its input gradient is
``col2im(W.T @ dy)``. A transposed convolution is the same two steps in the other order
(conv_transpose.py). Both loop over the kh·kw kernel offsets, one strided slice each — no
Python loop over the batch or the pixels — and run unchanged on CuPy.
"""
from ..arrays import get_array_module
from ..dispatch import fast_version


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


@fast_version("im2col")                   # numba / CUDA: one pass, no padded copy
def im2col(x, kernel, stride, padding, out_hw):
    """x (C, H, W, N) -> columns (C·kh·kw, Ho·Wo·N): for each kernel offset (i, j), the pixels
    that offset sees at every window position form one strided slice of the padded image,

        columns[c, i, j, oh, ow, n] = x_padded[c, i + oh·sh, j + ow·sw, n].

    ``out_hw`` = (Ho, Wo) is passed explicitly so no size is guessed (a transposed conv's
    gradient needs exactly its input's H×W windows, even with output_padding)."""
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


@fast_version("col2im")                   # numba / CUDA: a gather per pixel, in parallel
def col2im(columns, channels, image_hw, kernel, stride, padding, in_hw):
    """columns (C·kh·kw, Ho·Wo·N) -> image (C, H, W, N): the adjoint of :func:`im2col`,

        image_padded[c, oh·sh + i, ow·sw + j, n] += columns[(c, i, j), (oh, ow, n)]

    for every kernel offset (i, j); the padding's border is then cut off (those entries came
    from zeros, not from pixels)."""
    xp = get_array_module(columns)
    (H, W), (kh, kw), (sh, sw), (ph, pw), (Ho, Wo) = image_hw, kernel, stride, padding, in_hw
    N = columns.shape[1] // (Ho * Wo)
    cols = columns.reshape(channels, kh, kw, Ho, Wo, N)
    # big enough for every window, also those that overhang the right/bottom edge
    Hp, Wp = max(H + 2 * ph, sh * (Ho - 1) + kh), max(W + 2 * pw, sw * (Wo - 1) + kw)
    padded = xp.zeros((channels, Hp, Wp, N), dtype=columns.dtype)
    for i in range(kh):
        for j in range(kw):
            padded[:, i:i + sh * Ho:sh, j:j + sw * Wo:sw, :] += cols[:, i, j]
    return xp.ascontiguousarray(padded[:, ph:ph + H, pw:pw + W, :])

