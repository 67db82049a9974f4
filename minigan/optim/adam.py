"""Adam (torch.optim.Adam, step for step)."""
import math

from .. import kernels
from ..backend import get_array_module
from .optimizer import Optimizer, check_betas


class Adam(Optimizer):
    """For each parameter θ with gradient g, at step t = 1, 2, ...:
        g ← g + λ·θ                               (weight_decay λ: L2, added to the gradient)
        m ← β₁·m + (1 − β₁)·g                     first moment
        v ← β₂·v + (1 − β₂)·g²                    second moment
        θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
    ε is added after the square root and the bias corrections, exactly as PyTorch does.
    Frozen parameters (``requires_grad`` False) are skipped: no update, their step count stays.
    """

    STATE_KEYS = frozenset({"step", "exp_avg", "exp_avg_sq"})

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        betas = check_betas("Adam", betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    def step(self):
        group = self.param_groups[0]
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        states, params = [], [(i, p) for i, p in enumerate(self.params) if p.requires_grad]
        if not params:                                    # every parameter frozen
            return
        for i, p in params:
            state = self.state.get(i)
            if state is None:
                xp = get_array_module(p.data)
                state = self.state[i] = {"step": 0, "exp_avg": xp.zeros_like(p.data),
                                         "exp_avg_sq": xp.zeros_like(p.data)}
            state["step"] += 1
            states.append(state)
        t = states[0]["step"]
        if all(s["step"] == t for s in states) and kernels.adam_many(   # GPU: one launch for all
                [p.data for _, p in params], [p.grad for _, p in params],
                [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states], beta1, beta2,
                lr / (1 - beta1 ** t), math.sqrt(1 - beta2 ** t), eps, wd) is not None:
            return
        for (_, p), state in zip(params, states):
            xp = get_array_module(p.data)
            t = state["step"]
            m, v = state["exp_avg"], state["exp_avg_sq"]
            step_size = lr / (1 - beta1 ** t)
            bias_correction2_sqrt = math.sqrt(1 - beta2 ** t)
            if kernels.adam_update(p.data, p.grad, m, v, beta1, beta2, step_size,
                                   bias_correction2_sqrt, eps, wd) is not None:
                continue                      # done by one fused kernel; the math is below
            g = p.grad + wd * p.data if wd else p.grad
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
            denom = xp.sqrt(v) / bias_correction2_sqrt + eps
            p.data -= step_size * (m / denom)
