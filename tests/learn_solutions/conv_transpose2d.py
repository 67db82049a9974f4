"""Exercise 7 — ConvTranspose2d: Conv2d seen from the other side.

Shapes: x (N, Cin, H, W), W (Cin, Cout, kh, kw) (note: Cin first), b (Cout,),
y (N, Cout, Ho, Wo) with Ho = (H − 1)·sh − 2·ph + kh + oph (same for Wo; op: output_padding).

A transposed convolution is what Conv2d's backward does to its upstream gradient: a Conv2d
with weight W (it maps Cout channels to Cin) sends dy to dx = col2im(W̃ᵀ dY). So here
the FORWARD is (this is the lesson — you write it):
    X = x laid out as (Cin, N·H·W),  cols = W̃ᵀ X  with W̃ = W.reshape(Cin, Cout·kh·kw),
    y = col2im(cols, (N, Cout, Ho, Wo), ...) + b
and the BACKWARD is that Conv2d's forward: dcols = im2col(dy) (Cout·kh·kw, N·H·W), then
    dx = W̃ dcols (as (N, Cin, H, W)),   dW̃ = X dcolsᵀ,   db = Σ of dy over batch and pixels.
Hint: im2col(dy) with this kernel, stride and padding has exactly H×W output positions.

Uses YOUR im2col and col2im from conv2d.py (do exercise 6 first).
Reference, after you try: minigan/nn/conv_transpose.py.
Check:  python -m minigan.learn check conv_transpose2d
"""
from conv2d import col2im, im2col


def conv_transpose2d_forward(x, W, b, stride, padding, output_padding):
    """Returns (y, cache)."""
    N, Cin, H, Wd = x.shape
    _, Cout, kh, kw = W.shape
    Ho = (H - 1) * stride[0] - 2 * padding[0] + kh + output_padding[0]
    Wo = (Wd - 1) * stride[1] - 2 * padding[1] + kw + output_padding[1]
    X = x.transpose(1, 0, 2, 3).reshape(Cin, -1)                    # (Cin, N·H·W)
    cols = W.reshape(Cin, -1).T @ X                                 # (Cout·kh·kw, N·H·W)
    y = col2im(cols, (N, Cout, Ho, Wo), kh, kw, stride, padding) + b[:, None, None]
    return y, (X, W, x.shape, stride, padding)


def conv_transpose2d_backward(dy, cache):
    """Returns (dx, dW, db)."""
    X, W, x_shape, stride, padding = cache
    Cin, Cout, kh, kw = W.shape
    dcols = im2col(dy, kh, kw, stride, padding)                     # (Cout·kh·kw, N·H·W)
    N, _, H, Wd = x_shape
    dx = (W.reshape(Cin, -1) @ dcols).reshape(Cin, N, H, Wd).transpose(1, 0, 2, 3)
    dW = (X @ dcols.T).reshape(W.shape)
    return dx, dW, dy.sum(axis=(0, 2, 3))
