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
        x_t = batch_last(x)                                   # (C, ..., N)
        x2 = x_t.reshape(self.num_features, -1)               # (C, M); copies only if strided
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats and x2.shape[1] < 2:
            raise ValueError(f"{type(self).__name__}: training needs more than 1 value per "
                             f"channel, got input shape {tuple(x.shape)}")
        fast = self._fused_forward(x2) if use_batch_stats else None   # numba / CUDA
        y, x_hat, inv_std = fast if fast is not None else self._plain_forward(x2, use_batch_stats)
        self._cache = (x_hat, inv_std, use_batch_stats, x.shape)
        return batch_first(y.reshape(x_t.shape))

    def _plain_forward(self, x2, use_batch_stats):
        """The math on (C, M) rows: statistics, normalisation, affine map -> (y, x̂, 1/√(σ²+ε))."""
        xp = get_array_module(x2)
        if use_batch_stats:
            mean, var = x2.mean(axis=1), x2.var(axis=1)           # var: biased, 1/M
            if self.training and self.track_running_stats:
                self._update_running_stats(mean, var, x2.shape[1])
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = 1 / xp.sqrt(var + self.eps)
        x_hat = (x2 - mean[:, None]) * inv_std[:, None]
        y = x_hat * self.weight.data[:, None] + self.bias.data[:, None] if self.affine else x_hat
        return y, x_hat, inv_std

    def _fused_forward(self, x2):
        """:meth:`_plain_forward` with batch statistics in one kernel pass per channel (numba on
        the CPU, CUDA on the GPU, which also moves the running estimates), or None."""
        if not self.affine:
            return None
        update = self.training and self.track_running_stats
        running = ((self.running_mean, self.running_var, self.momentum)
                   if update and self.momentum is not None else None)
        fast = kernels.batchnorm_forward(x2, self.weight.data, self.bias.data, self.eps, running)
        if fast is None:
            return None
        y, x_hat, mean, var, inv_std, running_done = fast
        if update:
            self._update_running_stats(mean, var, x2.shape[1], values_done=running_done)
        return y, x_hat, inv_std

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
        if used_batch_stats and self.affine:                  # (a frozen γ or β: into scratch)
            dgamma, dbeta = (p.grad if p.requires_grad else get_array_module(p.grad).zeros_like(p.grad)
                             for p in (self.weight, self.bias))
            dx = kernels.batchnorm_backward(dy, x_hat, self.weight.data, inv_std, dgamma, dbeta)
            if dx is not None:                                # numba: the lines below, fused
                return batch_first(dx.reshape(dy_t.shape))
        if self.affine:
            if self.weight.requires_grad:
                self.weight.grad += (dy * x_hat).sum(axis=1)
            if self.bias.requires_grad:
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
