"""Conv2d: cross-correlation of NCHW images with a (Cout, Cin, kh, kw) kernel, via im2col."""
from ..dispatch import fast_version
from . import init
from .arguments import pair, positive_count
from .im2col import checked_output_size, col2im, im2col
from .module import Module


class Conv2d(Module):
    """2-D convolution (PyTorch's cross-correlation), ``y = W ⋆ x + b``.

        y[n, o, oh, ow] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x_pad[n, c, oh·sh + i, ow·sw + j]

    Shapes: x (N, Cin, H, W), W (Cout, Cin, kh, kw), b (Cout,), y (N, Cout, Ho, Wo) with
    Ho = ⌊(H + 2ph − kh)/sh⌋ + 1 (and the same for Wo).

    Forward, with the batch moved last (im2col.py says why):
        X = im2col(x)                      (Cin·kh·kw, Ho·Wo·N)
        Y = W.reshape(Cout, −1) @ X + b    (Cout, Ho·Wo·N)  = (Cout, Ho, Wo, N)
    Backward, with dY = ∂L/∂y laid out as (Cout, Ho·Wo·N):
        ∂L/∂W += dY @ Xᵀ                   (Cout, Cin·kh·kw)
        ∂L/∂b += Σ over pixels and batch of dY
        ∂L/∂x  = col2im(Wᵀ @ dY)           (Cin, H, W, N)  — a transposed convolution of dY
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

    def output_size(self, h, w):
        """(Ho, Wo) for an H×W input; raises if the kernel does not fit the padded input."""
        return checked_output_size(type(self).__name__, h, w, self.kernel_size, self.stride, self.padding)

    @fast_version("Conv2d.forward")
    def forward(self, x):
        self._check_input(x, 4, 1, self.in_channels)
        n, _, h, w = x.shape
        ho, wo = self.output_size(h, w)
        X = im2col(x.transpose(1, 2, 3, 0), self.kernel_size, self.stride, self.padding,
                   (ho, wo))                                                 # (Cin·kh·kw, Ho·Wo·N)
        Y = self.weight.data.reshape(self.out_channels, -1) @ X              # (Cout, Ho·Wo·N)
        if self.bias is not None:
            Y += self.bias.data[:, None]
        self._cache = (X, (n, h, w), (ho, wo))
        return Y.reshape(self.out_channels, ho, wo, n).transpose(3, 0, 1, 2)  # (N, Cout, Ho, Wo)

    @fast_version("Conv2d.backward")
    def backward(self, grad_output, need_input_grad=True):
        X, (n, h, w), (ho, wo) = self._get_cache()
        self._check_grad(grad_output, (n, self.out_channels, ho, wo), self.weight.data)
        dY = grad_output.transpose(1, 2, 3, 0).reshape(self.out_channels, -1)  # (Cout, Ho·Wo·N)
        W = self.weight.data.reshape(self.out_channels, -1)                  # (Cout, Cin·kh·kw)
        if self.weight.requires_grad:
            self.weight.grad += (dY @ X.T).reshape(self.weight.data.shape)
        if self.bias is not None and self.bias.requires_grad:
            self.bias.grad += dY.sum(axis=1)
        if not need_input_grad:
            return None
        dx = col2im(W.T @ dY, self.in_channels, (h, w), self.kernel_size, self.stride,
                    self.padding, (ho, wo))                                  # (Cin, H, W, N)
        return dx.transpose(3, 0, 1, 2)                                      # (N, Cin, H, W)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}, padding={self.padding}")
        return s + ("" if self.bias is not None else ", bias=False")
