"""Linear: y = x Wᵀ + b."""
from ..dispatch import fast_version
from . import init
from .arguments import positive_count
from .module import Module


class Linear(Module):
    """Fully connected layer, ``y = x @ W.T + b``.

    Shapes: x (N, in), W (out, in), b (out,), y (N, out).

    Backward, for upstream gradient dy = ∂L/∂y (N, out):
        ∂L/∂W += dyᵀ x        (out, N) @ (N, in)  -> (out, in)
        ∂L/∂b += Σ_n dy[n]    (out,)
        ∂L/∂x  = dy W         (N, out) @ (out, in) -> (N, in)
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = positive_count("Linear", "in_features", in_features)
        self.out_features = positive_count("Linear", "out_features", out_features)
        self.weight, self.bias = init.default_weight_and_bias(
            (out_features, in_features), out_features, fan_in=in_features, bias=bias)

    @fast_version("Linear.forward")
    def forward(self, x):
        self._check_input(x, 2, 1, self.in_features)
        y = x @ self.weight.data.T                            # (N, in) @ (in, out) -> (N, out)
        if self.bias is not None:
            y += self.bias.data
        self._cache = (x,)
        return y

    @fast_version("Linear.backward")
    def backward(self, grad_output, need_input_grad=True):
        (x,) = self._get_cache()
        self._check_grad(grad_output, (x.shape[0], self.out_features), x)
        dy = grad_output                                      # (N, out)
        if self.weight.requires_grad:
            self.weight.grad += dy.T @ x                      # (out, N) @ (N, in)
        if self.bias is not None and self.bias.requires_grad:
            self.bias.grad += dy.sum(axis=0)
        if not need_input_grad:
            return None
        return dy @ self.weight.data                          # (N, out) @ (out, in)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
