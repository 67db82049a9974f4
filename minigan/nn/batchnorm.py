"""Batch normalisation over the batch (and spatial) axes, per feature/channel."""
import numpy as np

from ..arrays import get_array_module
from ..dispatch import fast_version
from .arguments import flag, fraction, positive_count, positive_number
from .module import Module, Parameter


class _BatchNorm(Module):
    """y = γ · x̂ + β with x̂ = (x − μ) / √(σ² + ε), per channel c (axis 1 of x).

    Training: μ, σ² are the mean and *biased* variance over the M = N·(spatial) values of
    channel c in this batch, and the running estimates move by PyTorch's rule
        running_mean ← (1 − m)·running_mean + m·μ
        running_var  ← (1 − m)·running_var  + m·σ²·M/(M − 1)     (unbiased)
    Eval: μ, σ² are the running estimates.

    Shapes: x (N, C) or (N, C, ...); γ, β, μ, σ² (C,), broadcast along axis 1.
    Backward, with dy = ∂L/∂y, sums and means over the M values of each channel, dx̂ = dy·γ:
        ∂L/∂γ += Σ dy·x̂      ∂L/∂β += Σ dy
        training: ∂L/∂x = (1/√(σ²+ε)) · (dx̂ − mean(dx̂) − x̂ · mean(dx̂·x̂))
        eval:     ∂L/∂x = dx̂ / √(σ²+ε)
    (batchnorm_backward_steps below derives the training form node by node.)
    """

    _ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        name = type(self).__name__
        self.num_features = num_features = positive_count(name, "num_features", num_features)
        self.eps = positive_number(name, "eps", eps)
        self.momentum = fraction(name, "momentum", momentum, allow_none=True)
        self.affine = affine = flag(name, "affine", affine)
        self.track_running_stats = track_running_stats = flag(name, "track_running_stats",
                                                              track_running_stats)
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=np.float32))
            self.bias = Parameter(np.zeros(num_features, dtype=np.float32))
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
            self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))

    @staticmethod
    def _axes_and_shape(x):
        """The axes a channel's statistics run over (all but axis 1), and the shape that
        broadcasts a per-channel (C,) array along axis 1: (1, C, 1, ...)."""
        axes = (0,) + tuple(range(2, x.ndim))
        return axes, (1, x.shape[1]) + (1,) * (x.ndim - 2)

    @fast_version("BatchNorm.forward")
    def forward(self, x):
        self._check_input(x, self._ranks, 1, self.num_features)
        xp = get_array_module(x)
        axes, c = self._axes_and_shape(x)
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            m = x.size // self.num_features                       # values per channel
            if m < 2:
                raise ValueError(f"{type(self).__name__}: training needs more than 1 value per "
                                 f"channel, got input shape {tuple(x.shape)}")
            mean, var = x.mean(axis=axes), x.var(axis=axes)       # var: biased, 1/M
            if self.training and self.track_running_stats:
                self._update_running_stats(mean, var, m)
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = 1 / xp.sqrt(var + self.eps)                     # (C,)
        x_hat = (x - mean.reshape(c)) * inv_std.reshape(c)
        y = x_hat * self.weight.data.reshape(c) + self.bias.data.reshape(c) if self.affine else x_hat
        self._cache = (x_hat, inv_std, use_batch_stats)
        return y

    def _update_running_stats(self, mean, var, m, values_done=False):
        """Count the batch and move the running estimates (unless the fused GPU kernel already
        moved them with this same arithmetic: ``values_done``)."""
        self.num_batches_tracked += 1
        if values_done:
            return
        momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean *= 1 - momentum
        self.running_mean += momentum * mean
        self.running_var *= 1 - momentum
        self.running_var += (momentum * m / (m - 1)) * var

    @fast_version("BatchNorm.backward")
    def backward(self, grad_output, need_input_grad=True):   # dL/dx is always computed
        x_hat, inv_std, used_batch_stats = self._get_cache()
        self._check_grad(grad_output, x_hat.shape, x_hat)
        axes, c = self._axes_and_shape(x_hat)
        dy = grad_output
        if self.affine:
            if self.weight.requires_grad:
                self.weight.grad += (dy * x_hat).sum(axis=axes)
            if self.bias.requires_grad:
                self.bias.grad += dy.sum(axis=axes)
            dx_hat = dy * self.weight.data.reshape(c)
        else:
            dx_hat = dy
        if not used_batch_stats:                                  # μ, σ² are constants
            return dx_hat * inv_std.reshape(c)
        return (dx_hat - dx_hat.mean(axis=axes, keepdims=True)
                - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)) * inv_std.reshape(c)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


def batchnorm_backward_steps(dy, x_hat, inv_std, gamma):
    """Training-mode dL/dx node by node, for (C, M) rows — the derivation of the closed form
    that ``_BatchNorm.backward`` uses (and tests/test_nn_module.py checks they agree).

    Forward graph per channel (M values):  d = x − μ,  μ = mean(x),  v = mean(d²),
    s = (v + ε)^(−1/2),  x̂ = d·s,  y = γ·x̂ + β.  Going back through it:
        dx̂ = dy·γ
        ds = Σ dx̂·d                 (x̂ = d·s)
        dv = ds · (−½)(v + ε)^(−3/2) = ds · (−½)·s³
        dd = dx̂·s + dv·2d/M          (d enters x̂ directly and v through d²)
        dμ = −Σ dd                   (d = x − μ)
        dx = dd + dμ/M
    Substituting d = x̂/s and collecting terms gives the closed form
        dx = s·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)).
    """
    M = dy.shape[1]
    s = inv_std[:, None]
    d = x_hat / s                                   # x − μ
    dx_hat = dy * gamma[:, None]
    ds = (dx_hat * d).sum(axis=1, keepdims=True)
    dv = ds * -0.5 * s ** 3
    dd = dx_hat * s + dv * 2 * d / M
    dmu = -dd.sum(axis=1, keepdims=True)
    return dd + dmu / M


class BatchNorm1d(_BatchNorm):
    """BatchNorm over (N, C) or (N, C, L) inputs; statistics over N (and L)."""
    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """BatchNorm over (N, C, H, W) images; statistics over N, H and W."""
    _ranks = (4,)
