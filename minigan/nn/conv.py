"""Conv2d: cross-correlation of NCHW images with a (Cout, Cin, kh, kw) kernel, via im2col."""
from .. import kernels
from ..backend import get_array_module
from . import conv_taps, init
from .im2col import Workspace, checked_output_size, col2im, conv_matmul, im2col, pair, positive_count
from .layout import batch_first, batch_last, contiguous_batch_last
from .module import Module


class Conv2d(Module):
    """2-D convolution (PyTorch's cross-correlation), ``y = W ⋆ x + b``.

        y[n, o, oh, ow] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x_pad[n, c, oh·sh + i, ow·sw + j]

    Shapes: x (N, Cin, H, W), W (Cout, Cin, kh, kw), b (Cout,), y (N, Cout, Ho, Wo) with
    Ho = ⌊(H + 2ph − kh)/sh⌋ + 1 (and the same for Wo).

    Forward (batch-last in memory, im2col.py):
        X = im2col(x)                      (Cin·kh·kw, Ho·Wo·N)
        Y = W.reshape(Cout, −1) @ X + b    (Cout, Ho·Wo·N)  = (Cout, Ho, Wo, N)
    Backward, with dY = ∂L/∂y laid out as (Cout, Ho·Wo·N):
        ∂L/∂W += dY @ Xᵀ                   (Cout, Cin·kh·kw)
        ∂L/∂b += Σ over pixels and batch of dY
        ∂L/∂x  = col2im(Wᵀ @ dY)           (Cin, H, W, N)  — a transposed convolution of dY

    On the CPU the same sums skip the padding's work where that pays (conv_taps.py and its
    size rules): the forward and ∂L/∂W run one GEMM per run of output rows that read the same
    in-image kernel rows, and ∂L/∂x runs as the transposed convolution's stride² phases, each a
    plain stride-1 correlation of dY. The im2col/col2im lines below are the reference, and run
    otherwise (always with MINIGAN_KERNELS_OFF=conv_taps).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        self.in_channels = positive_count("Conv2d", "in_channels", in_channels)
        self.out_channels = positive_count("Conv2d", "out_channels", out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d", minimum=1)
        self.stride = pair(stride, "stride", "Conv2d", minimum=1)
        self.padding = pair(padding, "padding", "Conv2d", minimum=0)
        kh, kw = self.kernel_size
        self.weight, self.bias = init.default_weight_and_bias(
            (out_channels, in_channels, kh, kw), out_channels, fan_in=in_channels * kh * kw, bias=bias)
        self._workspace = Workspace()

    def output_size(self, h, w):
        """(Ho, Wo) for an H×W input; raises if the kernel does not fit the padded input."""
        return checked_output_size(type(self).__name__, h, w, self.kernel_size, self.stride, self.padding)

    def forward(self, x):
        self._check_input(x, 4, 1, self.in_channels)
        n, _, h, w = x.shape
        ho, wo = self.output_size(h, w)
        if kernels.conv_taps(x) and conv_taps.rows_worth_splitting(ho, h, self.kernel_size[0],
                                                                    self.stride[0], self.padding[0]):
            return self._forward_by_blocks(x, (n, h, w), (ho, wo))
        columns = im2col(batch_last(x), self.kernel_size, self.stride, self.padding, (ho, wo),
                         self._workspace)                                    # (Cin·kh·kw, Ho·Wo·N)
        y = conv_matmul(self.weight.data.reshape(self.out_channels, -1), columns)  # (Cout, Ho·Wo·N)
        if self.bias is not None:
            y += self.bias.data[:, None]
        self._cache = (columns, (n, h, w), (ho, wo))
        return batch_first(y.reshape(self.out_channels, ho, wo, n))

    def _forward_by_blocks(self, x, nhw, out_hw):
        """The forward without the row padding's work (conv_taps.correlate); the blocks it
        gathered are cached for ∂L/∂W instead of the im2col columns."""
        xp = get_array_module(x)
        x_t = contiguous_batch_last(x)                                        # (Cin, H, W, N)
        y = xp.empty((self.out_channels, *out_hw, nhw[0]), dtype=x.dtype)     # (Cout, Ho, Wo, N)
        blocks = conv_taps.correlate(x_t, self.weight.data, self.stride, self.padding, out_hw,
                                     self._workspace, "fwd", out=y)
        if self.bias is not None:
            y += self.bias.data[:, None, None, None]
        self._cache = (blocks, nhw, out_hw)
        return batch_first(y)

    def backward(self, grad_output, need_input_grad=True):
        columns, (n, h, w), (ho, wo) = self._get_cache()
        self._check_grad(grad_output, (n, self.out_channels, ho, wo), self.weight.data)
        dy_t = contiguous_batch_last(grad_output)                             # (Cout, Ho, Wo, N)
        dy = dy_t.reshape(self.out_channels, -1)                              # (Cout, Ho·Wo·N)
        if self.weight.requires_grad and isinstance(columns, list):          # the forward's blocks
            conv_taps.weight_grad(dy_t, columns, self.weight.grad, self._workspace, "fwd")
        elif self.weight.requires_grad:
            self.weight.grad += conv_matmul(dy, columns.T).reshape(self.weight.data.shape)
        if self.bias is not None and self.bias.requires_grad:
            self.bias.grad += dy.sum(axis=1)
        if not need_input_grad:
            return None
        xp = get_array_module(dy)
        if kernels.conv_taps(dy) and conv_taps.phases_worth_it(
                self.out_channels, self.in_channels,
                conv_taps.useful_fraction(ho, h, self.kernel_size[0], self.stride[0], self.padding[0])):
            dx = conv_taps.transposed(dy_t, self.weight.data, self.stride, self.padding, (h, w),
                                      self._workspace, "bwd")               # (Cin, H, W, N)
            return batch_first(dx)
        dcolumns = self._workspace.get("gemm", xp, (self.weight.data[0].size, dy.shape[1]), dy.dtype)
        conv_matmul(self.weight.data.reshape(self.out_channels, -1).T, dy, out=dcolumns)  # (Cin·kh·kw, Ho·Wo·N)
        dx = col2im(dcolumns, self.in_channels, (h, w), self.kernel_size, self.stride,
                    self.padding, (ho, wo))
        return batch_first(dx)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}, padding={self.padding}")
        return s + ("" if self.bias is not None else ", bias=False")
