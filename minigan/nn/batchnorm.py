"""Batch normalisation over the batch (and spatial) axes, per feature/channel."""
import numpy as np

from .. import kernels
from ..backend import get_array_module
from .layout import batch_first, batch_last
from .module import Module, Parameter


class _BatchNorm(Module):
    """y = γ · x̂ + β with x̂ = (x − μ) / √(σ² + ε), per channel c.

    Training: μ, σ² are the mean and *biased* variance over the M = N·(spatial) values of
    channel c in this batch, and the running estimates move by PyTorch's rule
        running_mean ← (1 − m)·running_mean + m·μ
        running_var  ← (1 − m)·running_var  + m·σ²·M/(M − 1)     (unbiased)
    Eval: μ, σ² are the running estimates.

    Shapes (batch-last in memory): x viewed as X (C, M); γ, β (C,).
    Backward, with dX = ∂L/∂y as (C, M) and dX̂ = dX·γ:
        ∂L/∂γ += Σ_M dX·x̂      ∂L/∂β += Σ_M dX
        training: ∂L/∂x = (1/√(σ²+ε)) · (dX̂ − mean_M(dX̂) − x̂ · mean_M(dX̂·x̂))
        eval:     ∂L/∂x = dX̂ / √(σ²+ε)
    """

    _ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=np.float32))
            self.bias = Parameter(np.zeros(num_features, dtype=np.float32))
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
            self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))

    def forward(self, x):
        self._check_input(x, self._ranks, 1, self.num_features)
        xp = get_array_module(x)
        x_t = batch_last(x)                                   # (C, ..., N)
        x2 = x_t.reshape(self.num_features, -1)               # (C, M); copies only if strided
        m = x2.shape[1]
        use_batch_stats = self.training or not self.track_running_stats
        fast = None
        if use_batch_stats:
            if m < 2:
                raise ValueError(f"{type(self).__name__}: training needs more than 1 value per "
                                 f"channel, got input shape {tuple(x.shape)}")
            update_running = self.training and self.track_running_stats
            running_done = False
            if self.affine:   # numba / CUDA: one pass per channel for all of the lines below
                running = ((self.running_mean, self.running_var, self.momentum)
                           if update_running and self.momentum is not None else None)
                fast = kernels.batchnorm_forward(x2, self.weight.data, self.bias.data, self.eps, running)
            if fast is not None:
                y, x_hat, mean, var, inv_std, running_done = fast
            else:
                mean = x2.mean(axis=1)
                var = x2.var(axis=1)
            if update_running:
                self._update_running_stats(mean, var, m, values_done=running_done)
        else:
            mean, var = self.running_mean, self.running_var
        if fast is None:
            inv_std = 1 / xp.sqrt(var + self.eps)
            x_hat = (x2 - mean[:, None]) * inv_std[:, None]
            y = x_hat * self.weight.data[:, None] + self.bias.data[:, None] if self.affine else x_hat
        self._cache = (x_hat, inv_std, use_batch_stats, x.shape)
        return batch_first(y.reshape(x_t.shape))

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

    def backward(self, grad_output, need_input_grad=True):   # dL/dx is always computed
        x_hat, inv_std, used_batch_stats, x_shape = self._get_cache()
        self._check_grad(grad_output, x_shape, x_hat)
        dy_t = batch_last(grad_output)
        dy = dy_t.reshape(self.num_features, -1)              # (C, M)
        if used_batch_stats and self.affine:
            dx = kernels.batchnorm_backward(dy, x_hat, self.weight.data, inv_std,
                                            self.weight.grad, self.bias.grad)
            if dx is not None:                                # numba: the lines below, fused
                return batch_first(dx.reshape(dy_t.shape))
        if self.affine:
            self.weight.grad += (dy * x_hat).sum(axis=1)
            self.bias.grad += dy.sum(axis=1)
            dx_hat = dy * self.weight.data[:, None]
        else:
            dx_hat = dy
        if used_batch_stats:
            dx = (dx_hat - dx_hat.mean(axis=1, keepdims=True)
                  - x_hat * (dx_hat * x_hat).mean(axis=1, keepdims=True)) * inv_std[:, None]
        else:
            dx = dx_hat * inv_std[:, None]
        return batch_first(dx.reshape(dy_t.shape))

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """BatchNorm over (N, C) or (N, C, L) inputs; statistics over N (and L)."""
    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """BatchNorm over (N, C, H, W) images; statistics over N, H and W."""
    _ranks = (4,)
