"""ConvTranspose2d: the adjoint of Conv2d, via GEMM + col2im."""
from ..dispatch import fast_version
from . import init
from .arguments import pair, positive_count
from .im2col import col2im, im2col
from .module import Module


class ConvTranspose2d(Module):
    """Transposed 2-D convolution ("deconvolution"): Conv2d's input gradient used as a layer.

        y[n, o, h·sh + i − ph, w·sw + j − pw] += Σ_c x[n, c, h, w] · W[c, o, i, j]   (+ b[o])

    Shapes: x (N, Cin, H, W), W (Cin, Cout, kh, kw) — PyTorch's layout, note Cin first —
    b (Cout,), y (N, Cout, Ho, Wo) with Ho = (H − 1)·sh − 2ph + kh + output_padding.

    Forward, with the batch moved last (the mirror image of Conv2d, see im2col.py):
        C = W.reshape(Cin, −1)ᵀ @ x        (Cout·kh·kw, H·W·N)   one GEMM
        y = col2im(C) + b                  (Cout, Ho, Wo, N)
    Backward, with dy = ∂L/∂y:
        D = im2col(dy)                     (Cout·kh·kw, H·W·N)   — a convolution of dy
        ∂L/∂W += x @ Dᵀ                    (Cin, Cout·kh·kw)
        ∂L/∂b += Σ over pixels and batch of dy
        ∂L/∂x  = W.reshape(Cin, −1) @ D    (Cin, H·W·N)
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

    def output_size(self, h, w):
        """(Ho, Wo) = ((H − 1)·s − 2p + k + output_padding) per axis; must be positive."""
        sizes = tuple((n - 1) * s - 2 * p + k + op for n, s, p, k, op in
                      zip((h, w), self.stride, self.padding, self.kernel_size, self.output_padding))
        if min(sizes) <= 0:
            raise ValueError(f"ConvTranspose2d: input {h}x{w} gives an empty output {sizes[0]}x{sizes[1]} "
                             f"(kernel {self.kernel_size}, stride {self.stride}, padding {self.padding})")
        return sizes

    @fast_version("ConvTranspose2d.forward")
    def forward(self, x):
        self._check_input(x, 4, 1, self.in_channels)
        n, _, h, w = x.shape
        ho, wo = self.output_size(h, w)
        x_cols = x.transpose(1, 2, 3, 0).reshape(self.in_channels, -1)          # (Cin, H·W·N)
        C = self.weight.data.reshape(self.in_channels, -1).T @ x_cols            # (Cout·kh·kw, H·W·N)
        y = col2im(C, self.out_channels, (ho, wo), self.kernel_size, self.stride,
                   self.padding, (h, w))                                         # (Cout, Ho, Wo, N)
        if self.bias is not None:
            y += self.bias.data[:, None, None, None]
        self._cache = (x_cols, (n, h, w), (ho, wo))
        return y.transpose(3, 0, 1, 2)                                           # (N, Cout, Ho, Wo)

    @fast_version("ConvTranspose2d.backward")
    def backward(self, grad_output, need_input_grad=True):
        x_cols, (n, h, w), (ho, wo) = self._get_cache()
        self._check_grad(grad_output, (n, self.out_channels, ho, wo), x_cols)
        dy = grad_output.transpose(1, 2, 3, 0)                                  # (Cout, Ho, Wo, N)
        if self.bias is not None and self.bias.requires_grad:
            self.bias.grad += dy.sum(axis=(1, 2, 3))
        D = im2col(dy, self.kernel_size, self.stride, self.padding, (h, w))     # (Cout·kh·kw, H·W·N)
        if self.weight.requires_grad:
            self.weight.grad += (x_cols @ D.T).reshape(self.weight.data.shape)
        if not need_input_grad:
            return None
        dx = self.weight.data.reshape(self.in_channels, -1) @ D                 # (Cin, H·W·N)
        return dx.reshape(self.in_channels, h, w, n).transpose(3, 0, 1, 2)      # (N, Cin, H, W)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}, padding={self.padding}")
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        return s + ("" if self.bias is not None else ", bias=False")
