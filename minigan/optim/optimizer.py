"""Optimizer base: parameter bookkeeping and PyTorch-shaped state_dict."""
import copy
import math
import numbers

from ..arrays import get_array_module
from ..nn.module import Parameter, zero_grads


def check_hyper_parameters(name, group):
    """lr, momentum, weight_decay, eps and dampening must be finite numbers >= 0."""
    for key, value in group.items():
        if key in ("lr", "momentum", "weight_decay", "eps", "dampening") and not (
                isinstance(value, numbers.Real) and not isinstance(value, bool)
                and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name}: {key} must be a finite number >= 0, got {value!r}")


TORCH_IMPLEMENTATION_FLAGS = {"foreach", "fused", "capturable", "differentiable"}


def check_betas(name, betas):
    """Adam's (β₁, β₂): two numbers in [0, 1); returned as a tuple."""
    betas = tuple(betas) if isinstance(betas, (list, tuple)) else (betas,)
    if len(betas) != 2 or not all(isinstance(b, numbers.Real) and not isinstance(b, bool)
                                  and 0 <= b < 1 for b in betas):
        raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas!r}")
    return betas


class Optimizer:
    """Holds a list of Parameters, hyper-parameters in ``param_groups[0]`` (as PyTorch does),
    and per-parameter state (``self.state[i]``, a dict of arrays) for exact resume.
    Subclasses name their per-parameter state entries: ``STATE_ARRAYS`` (arrays of the
    parameter's shape) and ``STATE_COUNTS`` (integers >= 0); a parameter's state holds all of
    them or none."""

    STATE_ARRAYS = frozenset()
    STATE_COUNTS = frozenset()

    @property
    def STATE_KEYS(self):
        return self.STATE_ARRAYS | self.STATE_COUNTS

    def __init__(self, params, defaults):
        self.params = list(params)
        name = type(self).__name__
        if not self.params:
            raise ValueError(f"{name}: got an empty parameter list")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError(f"{name}: the parameter list holds the same Parameter twice (it would "
                             f"be updated twice per step)")
        check_hyper_parameters(name, defaults)
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
        zero_grads([p.grad for p in self.params])

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
        parameter's device and dtype). All or nothing: the parameter count, the
        hyper-parameter names (a dict saved by another optimizer is refused), their values, the
        state names and shapes are checked before anything changes."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not isinstance(state_dict.get("state", {}), dict):
            raise TypeError(f"{name}.load_state_dict: expected a dict with 'state' (a dict) and "
                            f"'param_groups' (a list), got {type(state_dict).__name__}")
        groups = state_dict.get("param_groups", [])
        if not isinstance(groups, (list, tuple)) or not all(
                isinstance(g, dict) and isinstance(g.get("params", []), (list, tuple)) for g in groups):
            raise TypeError(f"{name}.load_state_dict: 'param_groups' must be a list of dicts, each "
                            f"with a 'params' list")
        if len(groups) != 1 or len(groups[0].get("params", [])) != len(self.params):
            got = [len(g.get("params", [])) for g in groups]
            raise ValueError(f"{name}.load_state_dict: expected 1 param group of {len(self.params)} "
                             f"parameters, got groups of sizes {got}")
        group = {k: v for k, v in groups[0].items() if k != "params"}
        missing = set(self.param_groups[0]) - set(group)
        if missing:
            raise ValueError(f"{name}.load_state_dict: the hyper-parameters are {sorted(group)}, "
                             f"expected {sorted(self.param_groups[0])} (was it saved by another "
                             f"optimizer?)")
        # PyTorch's dicts hold more: implementation choices (ignored) and options minigan lacks
        # (accepted only when off, e.g. amsgrad=False)
        for key in sorted(set(group) - set(self.param_groups[0])):
            value = group.pop(key)
            if key not in TORCH_IMPLEMENTATION_FLAGS and value not in (False, None, 0):
                raise ValueError(f"{name}.load_state_dict: option {key}={value!r} is not "
                                 f"implemented by minigan's {name}")
        check_hyper_parameters(f"{name}.load_state_dict", group)
        new_state = {}
        for key, s in state_dict.get("state", {}).items():
            try:
                i = int(key)
            except (TypeError, ValueError):
                raise ValueError(f"{name}.load_state_dict: state key {key!r} is not a parameter "
                                 f"index") from None
            if not 0 <= i < len(self.params):
                raise ValueError(f"{name}.load_state_dict: state for parameter {i}, but there are "
                                 f"only {len(self.params)}")
            new_state[i] = self._checked_state(i, s)
        if "betas" in group:
            group["betas"] = check_betas(f"{name}.load_state_dict", group["betas"])
        if not isinstance(group.get("nesterov", False), bool):
            raise ValueError(f"{name}.load_state_dict: nesterov must be true or false, got "
                             f"{group['nesterov']!r}")
        self.param_groups = [copy.deepcopy(group)]
        self.state = new_state

    def _checked_state(self, i, s):
        """Parameter ``i``'s state converted to its device and dtype, or a ValueError naming what
        is missing, unknown or of the wrong kind (a state that would crash at step())."""
        name, p = type(self).__name__, self.params[i].data
        where = f"{name}.load_state_dict: parameter {i}"
        if not isinstance(s, dict):
            raise ValueError(f"{where}: its state is a {type(s).__name__}, expected a dict")
        unknown, missing = set(s) - self.STATE_KEYS, self.STATE_KEYS - set(s)
        if unknown:
            raise ValueError(f"{where} has state {sorted(unknown)}, expected only "
                             f"{sorted(self.STATE_KEYS)} (was it saved by another optimizer?)")
        if missing and s:
            raise ValueError(f"{where}: its state lacks {sorted(missing)} (it has {sorted(s)})")
        xp, entry = get_array_module(p), {}
        for k, v in s.items():
            if k in self.STATE_ARRAYS:
                kind = getattr(getattr(v, "dtype", None), "kind", None)
                if not hasattr(v, "shape") or tuple(v.shape) != tuple(p.shape) or kind not in "biuf":
                    shown = (f"shape {tuple(v.shape)}, dtype {v.dtype}" if hasattr(v, "shape")
                             else f"a {type(v).__name__}")
                    raise ValueError(f"{where}: state {k!r} is {shown}, expected numbers of shape "
                                     f"{tuple(p.shape)}")
                entry[k] = xp.array(v, dtype=p.dtype)
                continue
            v = v.item() if hasattr(v, "item") and getattr(v, "ndim", 0) == 0 else v
            if (isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v)
                    or v < 0 or v != int(v)):
                raise ValueError(f"{where}: state {k!r} is {v!r}, expected a whole number >= 0")
            entry[k] = int(v)
        return entry
