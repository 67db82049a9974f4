"""BatchNorm over the global batch of a data-parallel run (PyTorch's SyncBatchNorm).

With K processes each holding M_k of the M = Σ M_k values of channel c, the statistics of the
whole batch come from per-process sums (two-pass, in float64, as one process computes them):
    forward:   μ  = Σ_k Σ x / M                       (Allreduce of C sums)
               σ² = Σ_k Σ (x − μ)² / M                 (Allreduce of C sums)
               x̂ = (x − μ)/√(σ² + ε),  y = γ·x̂ + β    (each process, its own values)
    backward:  with dy this process's ∂ℓ_k/∂y (ℓ_k: the mean loss over its B/K samples),
               S₁ = Σ_k Σ dy,  S₂ = Σ_k Σ dy·x̂          (Allreduce of 2C sums)
               ∂ℓ_k/∂x = (γ/√(σ² + ε)) · (dy − S₁/M − x̂·S₂/M)
               ∂ℓ_k/∂γ += Σ dy·x̂,  ∂ℓ_k/∂β += Σ dy      (its own sums; averaged with the other
                                                       gradients before the optimizer step)
This is one process's closed form (nn/batchnorm.py) with every mean over the batch replaced by
the global one: dy = K·∂L/∂y for the global mean loss L, so S₁/M = K·mean(∂L/∂y) — both sides
carry the same factor K, which the gradient averaging divides out. The running statistics move
with the global μ and σ²·M/(M − 1), identically on every process. Eval mode needs no
communication (running statistics).
"""
import numpy as np

from ..nn.batchnorm import _BatchNorm
from ..kernels.layout import batch_first, batch_last


class SyncBatchNorm(_BatchNorm):
    """A BatchNorm1d/2d whose training statistics cover all processes of ``comm``; made by
    :func:`convert_sync_batchnorm` from an existing layer, sharing its parameters and buffers
    (so state_dict names, and checkpoints, are the same)."""

    def __init__(self, batchnorm, comm):
        super().__init__(batchnorm.num_features, batchnorm.eps, batchnorm.momentum,
                         batchnorm.affine, batchnorm.track_running_stats)
        self._ranks = batchnorm._ranks
        self.kind = type(batchnorm).__name__
        if batchnorm.affine:
            self.weight, self.bias = batchnorm.weight, batchnorm.bias
        for name, buffer in batchnorm._buffers.items():
            self._buffers[name] = buffer
        self.training = batchnorm.training
        self.comm = comm

    def _allreduce(self, *sums):
        """Σ over processes of float64 per-channel sums (one call for all of them)."""
        parts = [np.asarray(s, np.float64).ravel() for s in sums]
        packed = self.comm.allreduce_sum(np.concatenate(parts))
        return np.split(packed, np.cumsum([len(p) for p in parts])[:-1])

    def forward(self, x):
        if not self.training and self.track_running_stats:
            return super().forward(x)                         # running statistics: no messages
        self._check_input(x, self._ranks, 1, self.num_features)
        x_t = batch_last(x)                                   # (C, ..., N)
        x2 = x_t.reshape(self.num_features, -1)               # (C, M_k)
        s, count = self._allreduce(x2.sum(axis=1, dtype=np.float64), [x2.shape[1]])
        m = int(count[0])                                     # M, values per channel in all
        if m < 2:
            raise ValueError(f"SyncBatchNorm ({self.kind}): training needs more than 1 value per "
                             f"channel over all processes, got {m}")
        mean = s / m
        centred = x2 - mean[:, None].astype(x2.dtype)
        var, = self._allreduce((centred.astype(np.float64) ** 2).sum(axis=1))
        var /= m
        if self.training and self.track_running_stats:
            self._update_running_stats(mean.astype(x2.dtype), var.astype(x2.dtype), m)
        inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x2.dtype)
        x_hat = centred * inv_std[:, None]
        y = x_hat * self.weight.data[:, None] + self.bias.data[:, None] if self.affine else x_hat
        self._cache = (x_hat, inv_std, m, x.shape)
        return batch_first(y.reshape(x_t.shape))

    def backward(self, grad_output, need_input_grad=True):
        if not self.training and self.track_running_stats:
            return super().backward(grad_output, need_input_grad)
        x_hat, inv_std, m, x_shape = self._get_cache()
        self._check_grad(grad_output, x_shape, x_hat)
        dy_t = batch_last(grad_output)
        dy = dy_t.reshape(self.num_features, -1)              # (C, M_k)
        sum_dy, sum_dy_xhat = dy.sum(axis=1), (dy * x_hat).sum(axis=1)
        if self.affine:
            if self.weight.requires_grad:
                self.weight.grad += sum_dy_xhat
            if self.bias.requires_grad:
                self.bias.grad += sum_dy
        s1, s2 = self._allreduce(sum_dy, sum_dy_xhat)
        gamma = self.weight.data if self.affine else np.ones(self.num_features, dy.dtype)
        scale = (gamma * inv_std)[:, None]
        dx = scale * (dy - (s1 / m).astype(dy.dtype)[:, None] - x_hat * (s2 / m).astype(dy.dtype)[:, None])
        return batch_first(dx.reshape(dy_t.shape))

    def extra_repr(self):
        return f"{super().extra_repr()}, from {self.kind}, {self.comm!r}"


def convert_sync_batchnorm(module, comm):
    """Replace every BatchNorm1d/2d inside ``module`` (or ``module`` itself) by a SyncBatchNorm
    sharing its parameters and buffers; returns the module (or its replacement)."""
    if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
        return SyncBatchNorm(module, comm)
    for name, child in list(module._modules.items()):
        setattr(module, name, convert_sync_batchnorm(child, comm))
    return module
