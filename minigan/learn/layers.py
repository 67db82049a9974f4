"""Your functions as minigan modules, so the flagship DCGAN can train on them (``train``).

Each ``Your*`` class extends minigan's layer and replaces only its forward and backward with
the learner's functions: parameters, buffers, names, init and state_dict stay minigan's.
:func:`swap_in` turns a model's layers into them in place (``layer.__class__``), so the model
keeps its structure; the learner's module is a class attribute (``fns``), made per run by
:func:`your_classes`, so copies of the model (the weight average) share it.

NumPy only: the exercises are written with ``np``, so the model trains on the CPU.
"""
import numpy as np

from minigan import nn


def _same_dtype(a, like):
    return np.asarray(a).astype(like.dtype, copy=False)


def _add_grad(param, grad):
    if param is not None and param.requires_grad:
        param.grad += _same_dtype(grad, param.grad).reshape(param.grad.shape)


class YourLinear(nn.Linear):
    fns = None

    def forward(self, x):
        b = self.bias.data if self.bias is not None else np.zeros(self.out_features, x.dtype)
        y, self._your_cache = self.fns.linear_forward(x, self.weight.data, b)
        return _same_dtype(y, x)

    def backward(self, grad_output, need_input_grad=True):
        dx, dW, db = self.fns.linear_backward(grad_output, self._your_cache)
        _add_grad(self.weight, dW)
        _add_grad(self.bias, db)
        return _same_dtype(dx, grad_output) if need_input_grad else None


class YourLeakyReLU(nn.LeakyReLU):
    fns = None

    def forward(self, x):
        y, self._your_cache = self.fns.leaky_relu_forward(x, self.negative_slope)
        return _same_dtype(y, x)

    def backward(self, grad_output, need_input_grad=True):
        return _same_dtype(self.fns.leaky_relu_backward(grad_output, self._your_cache), grad_output)


class YourTanh(nn.Tanh):
    fns = None

    def forward(self, x):
        y, self._your_cache = self.fns.tanh_forward(x)
        return _same_dtype(y, x)

    def backward(self, grad_output, need_input_grad=True):
        return _same_dtype(self.fns.tanh_backward(grad_output, self._your_cache), grad_output)


class YourConv2d(nn.Conv2d):
    fns = None

    def forward(self, x):
        b = self.bias.data if self.bias is not None else np.zeros(self.out_channels, x.dtype)
        y, self._your_cache = self.fns.conv2d_forward(x, self.weight.data, b, self.stride, self.padding)
        return _same_dtype(y, x)

    def backward(self, grad_output, need_input_grad=True):
        dx, dW, db = self.fns.conv2d_backward(grad_output, self._your_cache)
        _add_grad(self.weight, dW)
        _add_grad(self.bias, db)
        return _same_dtype(dx, grad_output) if need_input_grad else None


class YourConvTranspose2d(nn.ConvTranspose2d):
    fns = None

    def forward(self, x):
        b = self.bias.data if self.bias is not None else np.zeros(self.out_channels, x.dtype)
        y, self._your_cache = self.fns.conv_transpose2d_forward(
            x, self.weight.data, b, self.stride, self.padding, self.output_padding)
        return _same_dtype(y, x)

    def backward(self, grad_output, need_input_grad=True):
        dx, dW, db = self.fns.conv_transpose2d_backward(grad_output, self._your_cache)
        _add_grad(self.weight, dW)
        _add_grad(self.bias, db)
        return _same_dtype(dx, grad_output) if need_input_grad else None


class _YourBatchNorm:
    """Your training-mode BatchNorm on (M, C) rows; the running statistics (PyTorch's rule,
    momentum None: a cumulative mean) and eval mode are minigan's bookkeeping."""
    fns = None

    @staticmethod
    def _rows(x):                                 # (N, C) or (N, C, H, W) -> (M, C)
        return x if x.ndim == 2 else np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])

    @staticmethod
    def _unrows(y, shape):
        if len(shape) == 2:
            return y
        n, c, h, w = shape
        return np.moveaxis(y.reshape(n, h, w, c), -1, 1)

    def forward(self, x):
        rows = self._rows(x)
        if self.training:
            y, cache = self.fns.batchnorm_forward(rows, self.weight.data, self.bias.data, self.eps)
            mean, var, m = rows.mean(axis=0), rows.var(axis=0), rows.shape[0]
            self.num_batches_tracked += 1
            momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
            self.running_mean[...] = (1 - momentum) * self.running_mean + momentum * mean
            self.running_var[...] = (1 - momentum) * self.running_var + momentum * var * m / (m - 1)
        else:                                     # eval: the running estimates, constants
            s = 1 / np.sqrt(self.running_var + self.eps)
            y = (rows - self.running_mean) * s * self.weight.data + self.bias.data
            cache = s
        self._your_cache = (cache, x.shape, self.training)
        return _same_dtype(self._unrows(y, x.shape), x)

    def backward(self, grad_output, need_input_grad=True):
        cache, shape, training = self._your_cache
        dy = self._rows(grad_output)
        if training:
            dx, dgamma, dbeta = self.fns.batchnorm_backward(dy, cache)
        else:
            dx = dy * self.weight.data * cache
            dgamma, dbeta = np.zeros_like(self.weight.data), dy.sum(axis=0)
        _add_grad(self.weight, dgamma)
        _add_grad(self.bias, dbeta)
        return _same_dtype(self._unrows(dx, shape), grad_output)


class YourBatchNorm1d(_YourBatchNorm, nn.BatchNorm1d):
    pass


class YourBatchNorm2d(_YourBatchNorm, nn.BatchNorm2d):
    pass


class YourDropout(nn.Dropout):
    fns = None
    rng = None                                    # a numpy Generator, seeded per run

    def forward(self, x):
        if not self.training or self.p == 0:
            self._your_cache = None
            return x
        y, self._your_cache = self.fns.dropout_forward(x, self.p, self.rng)
        return _same_dtype(y, x)

    def backward(self, grad_output, need_input_grad=True):
        if self._your_cache is None:
            return grad_output
        return _same_dtype(self.fns.dropout_backward(grad_output, self._your_cache), grad_output)


class YourBCEWithLogitsLoss(nn.BCEWithLogitsLoss):
    fns = None

    def evaluate(self, input, target):
        value, self._your_cache = self.fns.bce_with_logits_forward(input, target.astype(input.dtype))
        self._your_dtype = input.dtype
        return np.asarray(value, dtype=np.float64)

    def forward(self, input, target):
        return float(self.evaluate(input, target))

    def backward(self):
        return np.asarray(self.fns.bce_with_logits_backward(self._your_cache)).astype(self._your_dtype)


class YourAdam:
    """Adam on your ``adam_step``: the optimizer's bookkeeping (m, v, t per parameter)."""

    def __init__(self, fns, params, lr, betas, eps=1e-8):
        self.fns, self.params, self.lr, self.betas, self.eps = fns, list(params), lr, betas, eps
        self.state = [(np.zeros_like(p.data), np.zeros_like(p.data)) for p in self.params]
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad[...] = 0

    def step(self):
        self.t += 1
        for p, (m, v) in zip(self.params, self.state):
            if p.requires_grad:
                self.fns.adam_step(p.data, p.grad, m, v, self.t, lr=self.lr, beta1=self.betas[0],
                                   beta2=self.betas[1], eps=self.eps)


# exercise -> the minigan layers it replaces, and with what
LAYERS = {
    "linear": [(nn.Linear, YourLinear)],
    "activations": [(nn.LeakyReLU, YourLeakyReLU), (nn.Tanh, YourTanh)],
    "conv2d": [(nn.Conv2d, YourConv2d)],
    "conv_transpose2d": [(nn.ConvTranspose2d, YourConvTranspose2d)],
    "batchnorm": [(nn.BatchNorm1d, YourBatchNorm1d), (nn.BatchNorm2d, YourBatchNorm2d)],
    "dropout": [(nn.Dropout, YourDropout)],
}


def your_classes(modules, seed=0):
    """{minigan class: a fresh subclass of its Your* class bound to the learner's module} for
    every exercise in ``modules`` ({exercise name: the learner's loaded module})."""
    out = {}
    for name, pairs in LAYERS.items():
        if name in modules:
            for base, cls in pairs:
                attrs = {"fns": modules[name]}
                if cls is YourDropout:
                    attrs["rng"] = np.random.default_rng([seed, 7])
                out[base] = type(cls.__name__, (cls,), attrs)
    return out


def swap_in(model, classes):
    """Turn every layer of ``model`` whose exact class is a key of ``classes`` into its learner
    version, in place. Returns ["index ClassName", ...] of the swapped layers."""
    swapped = []
    for i, layer in enumerate(model):
        cls = classes.get(type(layer))
        if cls is not None:
            swapped.append(f"{i} {type(layer).__name__}")
            layer.__class__ = cls
    return swapped
