"""Layer normalisation over each sample's trailing dimensions."""
import numpy as np

from ..backend import get_array_module
from .arguments import flag, positive_count, positive_number
from .module import Module, Parameter


class LayerNorm(Module):
    """y = γ · x̂ + β with x̂ = (x − μ) / √(σ² + ε); μ, σ² (biased) over the trailing
    ``normalized_shape`` dims of each sample. γ, β have shape ``normalized_shape``.

    Backward, with K values per sample and dx̂ = dy·γ:
        ∂L/∂γ += Σ_samples dy·x̂      ∂L/∂β += Σ_samples dy
        ∂L/∂x  = (1/√(σ²+ε)) · (dx̂ − mean_K(dx̂) − x̂ · mean_K(dx̂·x̂))
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True):
        super().__init__()
        try:
            shape = ((normalized_shape,) if isinstance(normalized_shape, (int, np.integer))
                     else tuple(normalized_shape))
        except TypeError:
            raise ValueError(f"LayerNorm: normalized_shape must be an int or a tuple of ints, got "
                             f"{normalized_shape!r}") from None
        if not shape:
            raise ValueError("LayerNorm: normalized_shape must name at least one dimension, got ()")
        shape = tuple(positive_count("LayerNorm", "normalized_shape", n) for n in shape)
        self.normalized_shape, self.eps = shape, positive_number("LayerNorm", "eps", eps)
        self.elementwise_affine = elementwise_affine = flag("LayerNorm", "elementwise_affine",
                                                            elementwise_affine)
        if elementwise_affine:
            self.weight = Parameter(np.ones(shape, dtype=np.float32))
            self.bias = Parameter(np.zeros(shape, dtype=np.float32))
        else:
            self.weight = self.bias = None

    def forward(self, x):
        k = len(self.normalized_shape)
        self._check_input(x, range(k, 9))
        if tuple(x.shape[-k:]) != self.normalized_shape:
            raise ValueError(f"LayerNorm: expected input ending in {self.normalized_shape}, got "
                             f"shape {tuple(x.shape)}")
        xp = get_array_module(x)
        axes = tuple(range(x.ndim - k, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        inv_std = 1 / xp.sqrt(var + self.eps)
        x_hat = (x - mean) * inv_std
        self._cache = (x_hat, inv_std, axes)
        return x_hat * self.weight.data + self.bias.data if self.elementwise_affine else x_hat

    def backward(self, grad_output, need_input_grad=True):   # dL/dx is always computed
        x_hat, inv_std, axes = self._get_cache()
        self._check_grad(grad_output, x_hat.shape, x_hat)
        batch_axes = tuple(range(x_hat.ndim - len(axes)))
        if self.elementwise_affine:
            if self.weight.requires_grad:
                self.weight.grad += (grad_output * x_hat).sum(axis=batch_axes)
            if self.bias.requires_grad:
                self.bias.grad += grad_output.sum(axis=batch_axes)
            dx_hat = grad_output * self.weight.data
        else:
            dx_hat = grad_output
        return (dx_hat - dx_hat.mean(axis=axes, keepdims=True)
                - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)) * inv_std

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}"
