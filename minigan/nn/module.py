"""Module and Parameter: the contract every layer follows.

    y  = m(x)            forward: computes y and keeps what backward needs (the "cache")
    dx = m.backward(dy)  returns dL/dx for the *last* forward, and ADDS dL/dθ into θ.grad

Gradients accumulate (``+=``) until ``zero_grad()``, as in PyTorch, so a GAN discriminator can
run forward/backward on a real batch, then on a fake batch, then take one optimizer step.
Names, layouts and ``state_dict`` keys are PyTorch's, so weights copy across both ways.
"""
import threading
from collections import OrderedDict

import numpy as np

from ..arrays import COMPUTE_DTYPES, check_compute_dtype, device_of, get_array_module
from ..backend import array_module_for, check_device
from ..dispatch import fast_version


@fast_version("zero_grads")               # GPU: one launch for all of them
def zero_grads(grads):
    """Set every gradient array to 0, in place (Module.zero_grad, Optimizer.zero_grad)."""
    for g in grads:
        g[...] = 0


class _Calls(threading.local):
    """Per thread: how deep in nested module calls we are, and which outermost call this is."""
    depth = 0
    outer = 0


_calls = _Calls()


class Parameter:
    """A trainable array ``data`` and its gradient ``grad`` (same shape, dtype and device).

    ``requires_grad = False`` freezes it, as in PyTorch: backward neither computes nor adds
    its gradient (``grad`` is left as it is) and the optimizers skip it."""

    def __init__(self, data):
        self.data = data
        self.grad = get_array_module(data).zeros_like(data)
        self.requires_grad = True

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype}, device={device_of(self.data)})"


class Module:
    """Base class: registers parameters, buffers and sub-modules in assignment order."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # --- registration -------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif name in self._buffers:
            self._buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def __getattr__(self, name):  # only called when normal lookup fails: buffers live here
        buffers = self.__dict__.get("_buffers", {})
        if name in buffers:
            return buffers[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def register_buffer(self, name, array):
        """A non-trainable array that is part of the state (e.g. BatchNorm's running mean)."""
        self._buffers[name] = array

    # --- traversal ----------------------------------------------------------------------
    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return [m for _, m in self.named_modules()]

    def children(self):
        return list(self._modules.values())

    def named_parameters(self, prefix=""):
        """(name, Parameter) pairs with PyTorch's dotted names, e.g. ``"0.weight"``."""
        for mod_name, mod in self.named_modules(prefix):
            for name, p in mod._parameters.items():
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix=""):
        for mod_name, mod in self.named_modules(prefix):
            for name, b in mod._buffers.items():
                yield (f"{mod_name}.{name}" if mod_name else name), b

    # --- modes and gradients ------------------------------------------------------------
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze every parameter (``Parameter.requires_grad``); returns self."""
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    def zero_grad(self):
        zero_grads([p.grad for p in self.parameters()])

    # --- state ----------------------------------------------------------------------------
    def state_dict(self):
        """Ordered name -> array: each module's parameters, then its buffers, then children.

        The arrays are the live ones (as in PyTorch); copy them to keep a snapshot.
        """
        state = OrderedDict()
        for mod_name, mod in self.named_modules():
            dot = f"{mod_name}." if mod_name else ""
            for name, p in mod._parameters.items():
                state[dot + name] = p.data
            for name, b in mod._buffers.items():
                state[dot + name] = b
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays (NumPy or CuPy, e.g. a torch ``state_dict`` after ``.numpy()``) in place.

        Names and shapes are checked first, so a bad dict changes nothing.
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        for name, value in state_dict.items():
            if name in own and tuple(np.shape(value)) != tuple(own[name].shape):
                raise ValueError(f"{type(self).__name__}.load_state_dict: {name!r} has shape "
                                 f"{tuple(np.shape(value))}, expected {tuple(own[name].shape)}")
        staged = {}                       # every value converted before anything is overwritten
        for name, value in state_dict.items():
            if name not in own:
                continue
            kind = np.asarray(value).dtype.kind if get_array_module(value) is np else value.dtype.kind
            if kind not in "biuf":
                raise TypeError(f"{type(self).__name__}.load_state_dict: {name!r} holds "
                                f"{np.asarray(value).dtype} values, expected numbers")
            target = own[name]
            staged[name] = get_array_module(target).asarray(value, dtype=target.dtype)
        for name, value in staged.items():
            own[name][...] = value
        return self

    # --- device and dtype -----------------------------------------------------------------
    def to(self, device=None, dtype=None):
        """Move parameters and buffers to ``device`` and/or cast floating ones to ``dtype``."""
        if device is not None and not isinstance(device, str):  # m.to(np.float64)
            device, dtype = None, device
        if dtype is not None and np.dtype(dtype) not in COMPUTE_DTYPES:
            raise TypeError(f"{type(self).__name__}.to: dtype must be float32 or float64 (what the "
                            f"layers and their kernels compute in), got {np.dtype(dtype)}")
        xp = array_module_for(check_device(device)) if device is not None else None

        def convert(a, floating_only=True):
            if xp is not None and get_array_module(a) is not xp:
                a = xp.asarray(a) if xp is not np else get_array_module(a).asnumpy(a)
            if dtype is not None and (a.dtype.kind == "f" or not floating_only):
                a = a.astype(dtype, copy=False)
            return a

        for m in self.modules():
            for p in m._parameters.values():
                p.data = convert(p.data)
                p.grad = get_array_module(p.data).zeros_like(p.data)
            for name in list(m._buffers):
                m._buffers[name] = convert(m._buffers[name])
            m._clear_cache()
        return self

    def double(self):
        return self.to(dtype=np.float64)

    def float(self):
        return self.to(dtype=np.float32)

    @property
    def device(self):
        for _, p in self.named_parameters():
            return device_of(p.data)
        for _, b in self.named_buffers():
            return device_of(b)
        return None

    @property
    def dtype(self):
        for _, p in self.named_parameters():
            return p.data.dtype
        for _, b in self.named_buffers():
            if b.dtype.kind == "f":
                return b.dtype
        return None

    # --- forward / backward -----------------------------------------------------------------
    def __call__(self, x):
        """``forward(x)``, refusing a module used twice within one outer forward: its backward
        keeps only the last call's input, so the gradient of the first use would be wrong."""
        calls = _calls
        if calls.depth == 0:
            calls.outer += 1                   # a new outermost forward
        elif self.__dict__.get("_called_in") == calls.outer:
            raise RuntimeError(f"{type(self).__name__}: this module is used twice in one forward "
                               f"(e.g. Sequential(L, Tanh(), L)); its backward keeps only the last "
                               f"call's input, so its gradients would be wrong: use a separate "
                               f"module for each use")
        object.__setattr__(self, "_called_in", calls.outer)
        calls.depth += 1
        try:
            return self.forward(x)
        finally:
            calls.depth -= 1

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, grad_output, need_input_grad=True):
        """dL/dx for the last forward; adds dL/dθ into each parameter's .grad.

        ``need_input_grad=False`` says nobody needs dL/dx (the input is data, or a batch
        "detached" from the model that made it): a layer whose dL/dx is a separate product
        (Linear, Conv2d, ConvTranspose2d) then skips it and returns None, as PyTorch skips
        gradients of inputs that do not require them; the others ignore the flag."""
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def _clear_cache(self):
        """Forget what the last forward kept, and any reusable scratch buffers (a ``_workspace``
        with a ``clear()``), when the module changes device or dtype."""
        object.__setattr__(self, "_cache", None)
        workspace = self.__dict__.get("_workspace")
        if workspace is not None:
            workspace.clear()

    # --- checks shared by the layers ---------------------------------------------------------
    def _check_input(self, x, ndim, feature_axis=None, features=None, what="input"):
        """Raise a clear error unless ``x`` has ``ndim`` dims (an int or a tuple of allowed
        ranks), ``features`` entries on ``feature_axis``, and this module's device and dtype."""
        name = type(self).__name__
        if not hasattr(x, "shape") or not hasattr(x, "dtype"):
            raise TypeError(f"{name}: expected a NumPy or CuPy array as {what}, got {type(x).__name__}")
        ranks = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in ranks:
            raise ValueError(f"{name}: expected a {' or '.join(map(str, ranks))}-D {what}, got shape "
                             f"{tuple(x.shape)} ({x.ndim}-D)")
        if feature_axis is not None and x.shape[feature_axis] != features:
            raise ValueError(f"{name}: expected {features} features/channels on axis {feature_axis} "
                             f"of the {what}, got {x.shape[feature_axis]} (shape {tuple(x.shape)})")
        self._check_device_dtype(x, what)

    def _device_and_dtype(self):
        """(self.device, self.dtype), read straight off a leaf layer's own arrays: these checks
        run on every forward, where walking the module tree would cost microseconds each."""
        if self._modules:
            return self.device, self.dtype
        for p in self._parameters.values():
            return device_of(p.data), p.data.dtype
        floating = [b for b in self._buffers.values() if b.dtype.kind == "f"]
        if floating:
            return device_of(floating[0]), floating[0].dtype
        for b in self._buffers.values():
            return device_of(b), None
        return None, None

    def _check_device_dtype(self, x, what="input"):
        name = type(self).__name__
        own_device, own_dtype = self._device_and_dtype()
        if own_device is not None and device_of(x) != own_device:
            raise ValueError(f"{name}: {what} is on device {device_of(x)!r} but the module is on "
                             f"{own_device!r}; move one with mg.to_device(x, ...) or module.to(...)")
        if own_dtype is not None and x.dtype != own_dtype:
            raise TypeError(f"{name}: {what} has dtype {x.dtype}, expected {own_dtype} (the "
                            f"module's dtype); convert one with x.astype(...) or module.to(dtype=...)")
        if x.dtype.kind != "f":
            raise TypeError(f"{name}: {what} must be a floating-point array, got dtype {x.dtype}")
        check_compute_dtype(name, what, x.dtype)          # float16, big-endian: no kernel runs them

    def _get_cache(self):
        cache = self.__dict__.get("_cache")
        if cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward "
                               f"(nothing cached to differentiate)")
        return cache

    def _check_grad(self, grad_output, expected_shape, like):
        """``grad_output`` must have the last forward's output shape, and ``like``'s device and dtype."""
        name = type(self).__name__
        if not hasattr(grad_output, "shape"):
            raise TypeError(f"{name}.backward: expected an array, got {type(grad_output).__name__}")
        if tuple(grad_output.shape) != tuple(expected_shape):
            raise ValueError(f"{name}.backward: gradient has shape {tuple(grad_output.shape)}, "
                             f"expected {tuple(expected_shape)} (the shape of the last forward's output)")
        if device_of(grad_output) != device_of(like):
            raise ValueError(f"{name}.backward: gradient is on device {device_of(grad_output)!r}, "
                             f"expected {device_of(like)!r}")
        if grad_output.dtype != like.dtype:
            raise TypeError(f"{name}.backward: gradient has dtype {grad_output.dtype}, "
                            f"expected {like.dtype}")

    # --- printing ------------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"
