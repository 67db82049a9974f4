"""Stochastic gradient descent with momentum and weight decay (torch.optim.SGD)."""
from .optimizer import Optimizer


class SGD(Optimizer):
    """For each parameter θ with gradient g:
        g ← g + λ·θ                                   (weight_decay λ, L2)
        b ← g on the first step, then b ← μ·b + (1 − dampening)·g     (momentum μ > 0)
        d = g + μ·b if nesterov else b
        θ ← θ − lr·d
    """

    STATE_ARRAYS = frozenset({"momentum_buffer"})

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, dampening=0.0, nesterov=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                                      dampening=dampening, nesterov=nesterov))

    def step(self):
        group = self.param_groups[0]
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        for i, p in enumerate(self.params):
            if not p.requires_grad:                       # frozen: skipped, as in PyTorch
                continue
            g = p.grad
            if wd:
                g = g + wd * p.data
            if mu:
                state = self.state.setdefault(i, {})
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = g.copy()
                else:
                    buf = state["momentum_buffer"]
                    buf *= mu
                    buf += (1 - group["dampening"]) * g
                buf = state["momentum_buffer"]
                g = g + mu * buf if group["nesterov"] else buf
            p.data -= lr * g
