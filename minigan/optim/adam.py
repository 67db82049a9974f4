"""Adam (torch.optim.Adam, step for step)."""
import math

from ..arrays import get_array_module
from ..dispatch import fast_version
from .optimizer import Optimizer, check_betas


@fast_version("adam_update")              # numba / CUDA: the five lines below in one pass
def adam_update(param, grad, m, v, beta1, beta2, step_size, bias_correction2_sqrt, eps,
                weight_decay):
    """One Adam step of one parameter, in place (see :class:`Adam` for the math);
    step_size = lr / (1 − β₁ᵗ), bias_correction2_sqrt = √(1 − β₂ᵗ)."""
    xp = get_array_module(param)
    g = grad + weight_decay * param if weight_decay else grad
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * (g * g)
    param -= step_size * (m / (xp.sqrt(v) / bias_correction2_sqrt + eps))


class Adam(Optimizer):
    """For each parameter θ with gradient g, at step t = 1, 2, ...:
        g ← g + λ·θ                               (weight_decay λ: L2, added to the gradient)
        m ← β₁·m + (1 − β₁)·g                     first moment
        v ← β₂·v + (1 − β₂)·g²                    second moment
        θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
    ε is added after the square root and the bias corrections, exactly as PyTorch does.
    Frozen parameters (``requires_grad`` False) are skipped: no update, their step count stays.
    """

    STATE_ARRAYS = frozenset({"exp_avg", "exp_avg_sq"})
    STATE_COUNTS = frozenset({"step"})

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        betas = check_betas("Adam", betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    def step(self):
        params = [(i, p) for i, p in enumerate(self.params) if p.requires_grad]
        states = []
        for i, p in params:
            state = self.state.get(i)
            if state is None:
                xp = get_array_module(p.data)
                state = self.state[i] = {"step": 0, "exp_avg": xp.zeros_like(p.data),
                                         "exp_avg_sq": xp.zeros_like(p.data)}
            state["step"] += 1
            states.append(state)
        if params:                                        # (every parameter may be frozen)
            self._update([p for _, p in params], states)

    @fast_version("Adam.update_all")                      # GPU: one launch for all parameters
    def _update(self, params, states):
        group = self.param_groups[0]
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        for p, state in zip(params, states):
            t = state["step"]
            adam_update(p.data, p.grad, state["exp_avg"], state["exp_avg_sq"], beta1, beta2,
                        lr / (1 - beta1 ** t), math.sqrt(1 - beta2 ** t), eps, wd)
