"""MaxPool2d and AvgPool2d: a window statistic per output pixel, via the im2col view.

Pooling is a convolution without weights: im2col (im2col.py) lays every kh×kw window out as
one column, a reduction over the window axis gives the output, and the input gradient goes
back through col2im, the adjoint of im2col — the same two routines the convolutions use, in
the batch-last layout of im2col.py:

    x (N, C, H, W)  = (C, H, W, N) in memory
    columns         (C, kh·kw, Ho·Wo·N)
                    columns[c, (i, j), (oh, ow, n)] = x_pad[c, oh·sh + i, ow·sw + j, n]
    y (N, C, Ho, Wo) = reduce over the (i, j) axis of columns

with Ho = ⌊(H + 2ph − kh)/sh⌋ + 1 (PyTorch's default ``ceil_mode=False``) and the stride
defaulting to the kernel size, as in PyTorch. No Python loop runs over the batch or the pixels.
"""
from ..arrays import get_array_module
from .arguments import pair
from .im2col import checked_output_size, col2im, im2col
from .module import Module


def batch_last(x):
    """(N, C, H, W) -> (C, H, W, N), the layout of im2col.py (a view)."""
    return x.transpose(1, 2, 3, 0)


def batch_first(x):
    """(C, H, W, N) -> (N, C, H, W) (a view)."""
    return x.transpose(3, 0, 1, 2)


def _window_inside(kernel, stride, padding, size, out_size, xp):
    """(k, out_size) booleans: does offset i of window o read pixel o·stride + i − padding
    inside [0, size)?"""
    pixel = xp.arange(out_size)[None, :] * stride + xp.arange(kernel)[:, None] - padding
    return (pixel >= 0) & (pixel < size)


class _Pool2d(Module):
    """Shared parts: arguments, output size, im2col of the input, checks."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride if stride is not None else kernel_size, "stride")
        self.padding = pair(padding, "padding")
        name = type(self).__name__
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.padding) < 0:
            raise ValueError(f"{name}: kernel_size and stride must be >= 1 and padding >= 0, got "
                             f"kernel_size={self.kernel_size}, stride={self.stride}, "
                             f"padding={self.padding}")
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name}: padding {self.padding} must be at most half the kernel "
                             f"size {self.kernel_size} (as in PyTorch)")

    def output_size(self, h, w):
        """(Ho, Wo) for an H×W input; raises if the kernel does not fit the padded input."""
        return checked_output_size(type(self).__name__, h, w, self.kernel_size, self.stride, self.padding)

    def _columns(self, x):
        """x (N, C, H, W) -> windows (C, kh·kw, Ho, Wo, N) (zero padding), and sizes."""
        self._check_input(x, 4)
        n, c, h, w = x.shape
        ho, wo = self.output_size(h, w)
        kh, kw = self.kernel_size
        columns = im2col(batch_last(x), self.kernel_size, self.stride, self.padding,
                         (ho, wo))                               # (C·kh·kw, Ho·Wo·N)
        return columns.reshape(c, kh * kw, ho, wo, n), (n, c, h, w), (ho, wo)

    def _inside(self, xp, h, w, ho, wo):
        """(kh·kw, Ho, Wo) booleans: which window entries are real pixels (not padding)."""
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        rows = _window_inside(kh, sh, ph, h, ho, xp)             # (kh, Ho)
        cols = _window_inside(kw, sw, pw, w, wo, xp)             # (kw, Wo)
        return (rows[:, None, :, None] & cols[None, :, None, :]).reshape(kh * kw, ho, wo)

    def _input_grad(self, dcolumns, c, h, w, ho, wo):
        """dcolumns (C, kh·kw, Ho, Wo, N) -> dx (N, C, H, W) by col2im (padding dropped)."""
        dx = col2im(dcolumns.reshape(c * dcolumns.shape[1], -1), c, (h, w), self.kernel_size,
                    self.stride, self.padding, (ho, wo))         # (C, H, W, N)
        return batch_first(dx)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max over each kh×kw window (padding counts as −∞, as in PyTorch).

        y[n, c, oh, ow] = max_{i,j} x_pad[n, c, oh·sh + i, ow·sw + j]

    Forward keeps, per output pixel, the offset k* = argmax over the window (the first one
    on ties, like PyTorch). Backward routes each upstream gradient to that one input pixel;
    overlapping windows that pick the same pixel add up (col2im):

        dcolumns[c, k, p] = dy[c, p] · [k = k*[c, p]]     (C, kh·kw, Ho·Wo·N)
        dx = col2im(dcolumns)                               (C, H, W, N)
    """

    def forward(self, x):
        columns, (n, c, h, w), (ho, wo) = self._columns(x)      # (C, K, Ho, Wo, N), K = kh·kw
        xp = get_array_module(columns)
        if any(self.padding):                                    # padding never wins a max:
            inside = self._inside(xp, h, w, ho, wo)             # (K, Ho, Wo)
            penalty = xp.where(inside, 0, -xp.inf).astype(columns.dtype)
            columns += penalty[None, :, :, :, None]              # 0 in the image, −∞ outside
        # argmax over the window axis, one offset at a time: K vectorised passes
        # (np.argmax on a middle axis would first copy the array with that axis innermost).
        y = columns[:, 0].copy()                                 # (C, Ho, Wo, N)
        argmax = xp.zeros(y.shape, dtype=xp.uint8 if columns.shape[1] < 256 else xp.int32)
        for k in range(1, columns.shape[1]):
            better = columns[:, k] > y                           # strict: first max wins ties
            # k exceeds every earlier offset, so "argmax = k where better" is a max
            # (arithmetic, no masked store: those are ~40x slower here)
            xp.maximum(argmax, better * argmax.dtype.type(k), out=argmax)
            xp.maximum(y, columns[:, k], out=y)
        self._cache = (argmax, (n, c, h, w), (ho, wo), x)
        return batch_first(y)

    def backward(self, grad_output, need_input_grad=True):   # dL/dx is always computed
        argmax, (n, c, h, w), (ho, wo), x = self._get_cache()
        self._check_grad(grad_output, (n, c, ho, wo), x)
        xp = get_array_module(argmax)
        dy = batch_last(grad_output)                  # (C, Ho, Wo, N)
        offsets = xp.arange(self.kernel_size[0] * self.kernel_size[1], dtype=argmax.dtype)
        chosen = argmax[:, None] == offsets[None, :, None, None, None]   # (C, K, Ho, Wo, N)
        dcolumns = chosen * dy[:, None]                          # 0 except at the argmax
        return self._input_grad(dcolumns, c, h, w, ho, wo)


class AvgPool2d(_Pool2d):
    """Mean over each kh×kw window.

        y[n, c, oh, ow] = Σ_{i,j} x_pad[n, c, oh·sh + i, ow·sw + j] / d[oh, ow]

    with d = kh·kw when ``count_include_pad=True`` (PyTorch's default: padded zeros count),
    else the number of real pixels in the window. Backward spreads dy / d evenly over the
    window; overlapping windows add up (col2im):

        dcolumns[c, k, oh, ow, n] = dy[c, oh, ow, n] / d[oh, ow]     (C, kh·kw, Ho, Wo, N)
        dx = col2im(dcolumns)                                         (C, H, W, N)
    """

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad=True):
        super().__init__(kernel_size, stride, padding)
        self.count_include_pad = bool(count_include_pad)

    def _divisor(self, xp, dtype, h, w, ho, wo):
        """d (Ho, Wo, 1): how many entries each window's sum is divided by."""
        kh, kw = self.kernel_size
        if self.count_include_pad or not any(self.padding):
            return xp.full((ho, wo, 1), kh * kw, dtype=dtype)
        return self._inside(xp, h, w, ho, wo).sum(axis=0).astype(dtype)[:, :, None]

    def forward(self, x):
        columns, (n, c, h, w), (ho, wo) = self._columns(x)      # (C, K, Ho, Wo, N)
        xp = get_array_module(columns)
        divisor = self._divisor(xp, columns.dtype, h, w, ho, wo)
        y = columns.sum(axis=1) / divisor                        # (C, Ho, Wo, N)
        self._cache = (divisor, (n, c, h, w), (ho, wo), x)
        return batch_first(y)

    def backward(self, grad_output, need_input_grad=True):   # dL/dx is always computed
        divisor, (n, c, h, w), (ho, wo), x = self._get_cache()
        self._check_grad(grad_output, (n, c, ho, wo), x)
        xp = get_array_module(divisor)
        share = batch_last(grad_output) / divisor     # (C, Ho, Wo, N)
        k = self.kernel_size[0] * self.kernel_size[1]
        dcolumns = xp.broadcast_to(share[:, None], (c, k, ho, wo, n))
        return self._input_grad(xp.ascontiguousarray(dcolumns), c, h, w, ho, wo)

    def extra_repr(self):
        s = super().extra_repr()
        return s if self.count_include_pad else s + ", count_include_pad=False"
