"""ConvTranspose2d: the adjoint of Conv2d, via GEMM + col2im."""
from .. import kernels
from ..backend import get_array_module
from . import conv_taps, init
from .im2col import Workspace, col2im, conv_matmul, im2col, pair, positive_count
from .layout import batch_first, batch_last, contiguous_batch_last
from .module import Module


class ConvTranspose2d(Module):
    """Transposed 2-D convolution ("deconvolution"): Conv2d's input gradient used as a layer.

        y[n, o, h·sh + i − ph, w·sw + j − pw] += Σ_c x[n, c, h, w] · W[c, o, i, j]   (+ b[o])

    Shapes: x (N, Cin, H, W), W (Cin, Cout, kh, kw) — PyTorch's layout, note Cin first —
    b (Cout,), y (N, Cout, Ho, Wo) with Ho = (H − 1)·sh − 2ph + kh + output_padding.

    Forward (batch-last in memory; the mirror image of Conv2d, see im2col.py):
        C = W.reshape(Cin, −1)ᵀ @ x        (Cout·kh·kw, H·W·N)   one GEMM
        y = col2im(C) + b                  (Cout, Ho, Wo, N)
    Backward, with dy = ∂L/∂y:
        D = im2col(dy)                     (Cout·kh·kw, H·W·N)   — a convolution of dy
        ∂L/∂W += x @ Dᵀ                    (Cin, Cout·kh·kw)
        ∂L/∂b += Σ over pixels and batch of dy
        ∂L/∂x  = W.reshape(Cin, −1) @ D    (Cin, H·W·N)

    On the CPU the same sums skip the padding's work where that pays (conv_taps.py and its
    size rules): the forward as stride² phases (the sub-pixel decomposition), each a stride-1
    correlation of x with a flipped sub-kernel of W — no zero insertion and no col2im; the
    backward's im2col(dy) and both GEMMs by runs of rows without their padded kernel rows. The
    lines above are the reference, and run otherwise (always with MINIGAN_KERNELS_OFF=conv_taps).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, bias=True):
        super().__init__()
        self.in_channels = positive_count("ConvTranspose2d", "in_channels", in_channels)
        self.out_channels = positive_count("ConvTranspose2d", "out_channels", out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size", "ConvTranspose2d", minimum=1)
        self.stride = pair(stride, "stride", "ConvTranspose2d", minimum=1)
        self.padding = pair(padding, "padding", "ConvTranspose2d", minimum=0)
        self.output_padding = pair(output_padding, "output_padding", "ConvTranspose2d", minimum=0)
        for op, s in zip(self.output_padding, self.stride):
            if not 0 <= op < s:
                raise ValueError(f"ConvTranspose2d: output_padding {self.output_padding} must be "
                                 f"smaller than stride {self.stride} and non-negative")
        kh, kw = self.kernel_size
        self.weight, self.bias = init.default_weight_and_bias(   # PyTorch: fan_in from weight.shape[1]
            (in_channels, out_channels, kh, kw), out_channels, fan_in=out_channels * kh * kw, bias=bias)
        self._workspace = Workspace()

    def output_size(self, h, w):
        """(Ho, Wo) = ((H − 1)·s − 2p + k + output_padding) per axis; must be positive."""
        sizes = tuple((n - 1) * s - 2 * p + k + op for n, s, p, k, op in
                      zip((h, w), self.stride, self.padding, self.kernel_size, self.output_padding))
        if min(sizes) <= 0:
            raise ValueError(f"ConvTranspose2d: input {h}x{w} gives an empty output {sizes[0]}x{sizes[1]} "
                             f"(kernel {self.kernel_size}, stride {self.stride}, padding {self.padding})")
        return sizes

    def forward(self, x):
        self._check_input(x, 4, 1, self.in_channels)
        n, _, h, w = x.shape
        ho, wo = self.output_size(h, w)
        x_t = contiguous_batch_last(x)                                           # (Cin, H, W, N)
        self._cache = (x_t, (n, h, w), (ho, wo))
        if kernels.conv_taps(x) and conv_taps.phases_worth_it(
                self.in_channels, self.out_channels,
                conv_taps.useful_fraction(h, ho, self.kernel_size[0], self.stride[0], self.padding[0])):
            y = conv_taps.transposed(x_t, self.weight.data, self.stride, self.padding, (ho, wo),
                                     self._workspace, "fwd")                   # (Cout, Ho, Wo, N)
        else:
            kh, kw = self.kernel_size
            x_cols = x_t.reshape(self.in_channels, -1)                           # (Cin, H·W·N)
            xp = get_array_module(x)
            columns = self._workspace.get("gemm", xp, (self.out_channels * kh * kw, x_cols.shape[1]), x.dtype)
            conv_matmul(self.weight.data.reshape(self.in_channels, -1).T, x_cols, out=columns)  # (Cout·kh·kw, H·W·N)
            y = col2im(columns, self.out_channels, (ho, wo), self.kernel_size, self.stride,
                       self.padding, (h, w))                                     # (Cout, Ho, Wo, N)
        if self.bias is not None:
            y += self.bias.data[:, None, None, None]
        return batch_first(y)

    def backward(self, grad_output, need_input_grad=True):
        x_t, (n, h, w), (ho, wo) = self._get_cache()
        self._check_grad(grad_output, (n, self.out_channels, ho, wo), x_t)
        if self.bias is not None and self.bias.requires_grad:
            self.bias.grad += batch_last(grad_output).sum(axis=(1, 2, 3))
        if kernels.conv_taps(x_t) and conv_taps.rows_worth_splitting(
                h, ho, self.kernel_size[0], self.stride[0], self.padding[0]):
            return self._backward_by_blocks(grad_output, x_t, need_input_grad)
        dy = batch_last(grad_output)                                            # (Cout, Ho, Wo, N)
        dcolumns = im2col(dy, self.kernel_size, self.stride, self.padding, (h, w), self._workspace)
        x_cols = x_t.reshape(self.in_channels, -1)                              # (Cin, H·W·N)
        if self.weight.requires_grad:
            self.weight.grad += conv_matmul(x_cols, dcolumns.T).reshape(self.weight.data.shape)
        if not need_input_grad:
            return None
        dx = conv_matmul(self.weight.data.reshape(self.in_channels, -1), dcolumns)  # (Cin, H·W·N)
        return batch_first(dx.reshape(self.in_channels, h, w, n))

    def _backward_by_blocks(self, grad_output, x_t, need_input_grad):
        """∂L/∂x = the correlation of dy with W (Cin outputs), by runs of rows without their
        padding; ∂L/∂W from the same blocks, with x as that correlation's output gradient:
            ∂L/∂W[c, o, i, j] += Σ_{h,w,n} x[c, h, w, n] · dy[o, h·sh + i − ph, w·sw + j − pw, n]."""
        dy = contiguous_batch_last(grad_output)                                 # (Cout, Ho, Wo, N)
        xp = get_array_module(dy)
        dx = xp.empty_like(x_t) if need_input_grad else None                   # (Cin, H, W, N)
        blocks = conv_taps.correlate(dy, self.weight.data, self.stride, self.padding, x_t.shape[1:3],
                                     self._workspace, "bwd", out=dx)
        if self.weight.requires_grad:
            conv_taps.weight_grad(x_t, blocks, self.weight.grad, self._workspace, "bwd")
        return None if dx is None else batch_first(dx)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}, padding={self.padding}")
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        return s + ("" if self.bias is not None else ", bias=False")
