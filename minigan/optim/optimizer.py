"""Optimizer base: parameter bookkeeping and PyTorch-shaped state_dict."""
import copy
import math
import numbers

from .. import kernels
from ..backend import get_array_module
from ..nn.module import Parameter


class Optimizer:
    """Holds a list of Parameters, hyper-parameters in ``param_groups[0]`` (as PyTorch does),
    and per-parameter state (``self.state[i]``, a dict of arrays) for exact resume."""

    def __init__(self, params, defaults):
        self.params = list(params)
        name = type(self).__name__
        if not self.params:
            raise ValueError(f"{name}: got an empty parameter list")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError(f"{name}: the parameter list holds the same Parameter twice (it would "
                             f"be updated twice per step)")
        for key, value in defaults.items():
            if key in ("lr", "momentum", "weight_decay", "eps", "dampening") and not (
                    isinstance(value, numbers.Real) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}: {key} must be a finite number >= 0, got {value!r}")
        for i, p in enumerate(self.params):
            if not isinstance(p, Parameter):
                raise TypeError(f"{type(self).__name__}: item {i} of params is a {type(p).__name__}, "
                                f"not a minigan Parameter (pass module.parameters())")
        self.param_groups = [dict(defaults)]
        self.state = {}

    @property
    def lr(self):
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value):
        self.param_groups[0]["lr"] = value

    def zero_grad(self):
        if kernels.zero_many([p.grad for p in self.params]) is not None:   # GPU: one launch
            return
        for p in self.params:
            p.grad[...] = 0

    def step(self):
        raise NotImplementedError

    def state_dict(self):
        """``{"state": {i: {name: array or number}}, "param_groups": [{..., "params": [0..n-1]}]}``
        — PyTorch's layout, with arrays instead of tensors (copies, so it is a snapshot)."""
        group = dict(self.param_groups[0], params=list(range(len(self.params))))
        state = {i: {k: (v.copy() if hasattr(v, "copy") else v) for k, v in s.items()}
                 for i, s in self.state.items()}
        return {"state": state, "param_groups": [group]}

    def load_state_dict(self, state_dict):
        """Restore what :meth:`state_dict` returned (arrays may be NumPy; they move to each
        parameter's device and dtype). Checks the parameter count and shapes first."""
        name = type(self).__name__
        groups = state_dict.get("param_groups", [])
        if len(groups) != 1 or len(groups[0].get("params", [])) != len(self.params):
            got = [len(g.get("params", [])) for g in groups]
            raise ValueError(f"{name}.load_state_dict: expected 1 param group of {len(self.params)} "
                             f"parameters, got groups of sizes {got}")
        new_state = {}
        for key, s in state_dict.get("state", {}).items():
            i = int(key)
            if not 0 <= i < len(self.params):
                raise ValueError(f"{name}.load_state_dict: state for parameter {i}, but there are "
                                 f"only {len(self.params)}")
            p = self.params[i].data
            xp = get_array_module(p)
            entry = {}
            for k, v in s.items():
                if hasattr(v, "shape") and v.shape == p.shape:
                    entry[k] = xp.array(v, dtype=p.dtype)
                elif hasattr(v, "shape") and v.ndim > 0:
                    raise ValueError(f"{name}.load_state_dict: state {k!r} of parameter {i} has shape "
                                     f"{tuple(v.shape)}, expected {tuple(p.shape)}")
                else:
                    entry[k] = v.item() if hasattr(v, "item") else v
            new_state[i] = entry
        group = {k: v for k, v in groups[0].items() if k != "params"}
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
        self.param_groups = [copy.deepcopy(group)]
        self.state = new_state
