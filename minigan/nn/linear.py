"""Linear: y = x Wᵀ + b."""
from ..backend import get_array_module
from . import init
from .im2col import Workspace, positive_count
from .layout import batch_first, batch_last
from .module import Module


class Linear(Module):
    """Fully connected layer, ``y = x @ W.T + b``.

    Shapes: x (N, in), W (out, in), b (out,), y (N, out).

    Forward is computed as yᵀ = W xᵀ + b: with the batch as the last axis in memory
    (layout.py) the product lands in the layout the next layer wants, and xᵀ is free.

    Backward, for upstream gradient dy = ∂L/∂y (N, out):
        ∂L/∂W += dyᵀ x        (out, N) @ (N, in)  -> (out, in)
        ∂L/∂b += Σ_n dy[n]    (out,)
        ∂L/∂x  = dy W         returned as (W.T @ dyᵀ)ᵀ  -> (N, in)

    The product dyᵀ x is written into a reused buffer, then added: a fresh (out, in) result
    (5 MB for the DCGAN's first layer) costs page faults on every step.
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = positive_count("Linear", "in_features", in_features)
        self.out_features = positive_count("Linear", "out_features", out_features)
        self.weight, self.bias = init.default_weight_and_bias(
            (out_features, in_features), out_features, fan_in=in_features, bias=bias)
        self._workspace = Workspace()

    def forward(self, x):
        self._check_input(x, 2, 1, self.in_features)
        x_t = batch_last(x)                                   # (in, N)
        y_t = self.weight.data @ x_t                          # (out, N)
        if self.bias is not None:
            y_t += self.bias.data[:, None]
        self._cache = (x,)
        return batch_first(y_t)                               # (N, out)

    def backward(self, grad_output, need_input_grad=True):
        (x,) = self._get_cache()
        self._check_grad(grad_output, (x.shape[0], self.out_features), x)
        dy_t = batch_last(grad_output)                        # (out, N)
        xp = get_array_module(x)
        if self.weight.requires_grad:
            dw = self._workspace.get("dW", xp, self.weight.data.shape, xp.result_type(dy_t, x))
            self.weight.grad += xp.matmul(dy_t, x, out=dw)    # (out, N) @ (N, in)
        if self.bias is not None and self.bias.requires_grad:
            self.bias.grad += dy_t.sum(axis=1)
        if not need_input_grad:
            return None
        return batch_first(self.weight.data.T @ dy_t)         # (in, N) -> (N, in)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
