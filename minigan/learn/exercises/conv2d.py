"""Exercise 6 — Conv2d through im2col, and col2im (its adjoint).

Shapes: x (N, C, H, W), W (Cout, C, kh, kw), b (Cout,), y (N, Cout, Ho, Wo) with
Ho = (H + 2·ph − kh)//sh + 1 (same for Wo).

im2col (given) copies every kh×kw window of the zero-padded input into one column:
    cols[(c, i, j), (n, oh, ow)] = x_pad[n, c, oh·sh + i, ow·sw + j]      cols (C·kh·kw, N·Ho·Wo)
The convolution is then ONE matrix product, Y = W̃ cols + b with W̃ = W.reshape(Cout, C·kh·kw):
a Linear layer applied to the columns. So, with dY = dy laid out as (Cout, N·Ho·Wo):
    dW̃ = dY colsᵀ        db = Σ over batch and pixels of dY        dcols = W̃ᵀ dY
and dx = col2im(dcols): im2col COPIES pixels, so the gradient of the copies ADDS every
copy's gradient back to the pixel it came from — col2im is im2col's transpose (adjoint),
⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩.

Write col2im (a loop over the kh×kw offsets, adding slices — the mirror of im2col) and
conv2d_backward. Hint: col2im must use the stride and the padding exactly as im2col does:
add into a padded array, then cut the padding off.

Reference, after you try: minigan/nn/conv.py and minigan/nn/im2col.py.
Check:  python -m minigan.learn check conv2d
"""
import numpy as np


def output_size(h, w, kh, kw, stride, padding):
    return (h + 2 * padding[0] - kh) // stride[0] + 1, (w + 2 * padding[1] - kw) // stride[1] + 1


def im2col(x, kh, kw, stride, padding):
    """x (N, C, H, W) -> cols (C·kh·kw, N·Ho·Wo), rows ordered (c, i, j), columns (n, oh, ow)."""
    N, C, H, W = x.shape
    (sh, sw), (ph, pw) = stride, padding
    Ho, Wo = output_size(H, W, kh, kw, stride, padding)
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.empty((C, kh, kw, N, Ho, Wo), dtype=x.dtype)
    for i in range(kh):                      # one slice per kernel offset (i, j)
        for j in range(kw):
            window = x_pad[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw]      # (N, C, Ho, Wo)
            cols[:, i, j] = window.transpose(1, 0, 2, 3)
    return cols.reshape(C * kh * kw, N * Ho * Wo)


def col2im(cols, x_shape, kh, kw, stride, padding):
    """The adjoint of im2col: cols (C·kh·kw, N·Ho·Wo) -> dx of shape x_shape = (N, C, H, W);
    every entry of cols is added to the pixel im2col copied it from."""
    raise NotImplementedError("write col2im")


def conv2d_forward(x, W, b, stride, padding):
    Cout, C, kh, kw = W.shape
    N, _, H, Wd = x.shape
    Ho, Wo = output_size(H, Wd, kh, kw, stride, padding)
    cols = im2col(x, kh, kw, stride, padding)                     # (C·kh·kw, N·Ho·Wo)
    Y = W.reshape(Cout, -1) @ cols + b[:, None]                   # (Cout, N·Ho·Wo)
    y = Y.reshape(Cout, N, Ho, Wo).transpose(1, 0, 2, 3)          # (N, Cout, Ho, Wo)
    cache = (cols, W, x.shape, stride, padding)
    return y, cache


def conv2d_backward(dy, cache):
    """Returns (dx, dW, db) for dy (N, Cout, Ho, Wo)."""
    cols, W, x_shape, stride, padding = cache
    raise NotImplementedError("write conv2d_backward (dY as (Cout, N·Ho·Wo), then three products)")
