"""Flatten and Reshape: change the per-sample shape, keep the batch axis."""
import numpy as np

from ..dispatch import fast_version
from .module import Module


class Reshape(Module):
    """(N, *in_shape) -> (N, *shape), in PyTorch's (row-major, C-H-W) element order.

    Backward reshapes the gradient back.
    """

    def __init__(self, *shape):
        super().__init__()
        self.shape = tuple(int(s) for s in (shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape))

    def _target(self, x):
        return self.shape

    def _checked_target(self, x):
        self._check_input(x, range(1, 9))
        target = self._target(x)
        if int(np.prod(x.shape[1:])) != int(np.prod(target)):
            raise ValueError(f"{type(self).__name__}: cannot reshape input of shape {tuple(x.shape)} "
                             f"({int(np.prod(x.shape[1:]))} values per sample) to (N, "
                             f"{', '.join(map(str, target))}) ({int(np.prod(target))} values)")
        return target

    @fast_version("Reshape.forward")
    def forward(self, x):
        target = self._checked_target(x)
        self._cache = (x.shape, x)
        return x.reshape((x.shape[0],) + target)

    @fast_version("Reshape.backward")
    def backward(self, grad_output, need_input_grad=True):   # dL/dx is always computed
        in_shape, x = self._get_cache()
        self._check_grad(grad_output, (in_shape[0],) + self._target(x), x)
        return grad_output.reshape(in_shape)

    def extra_repr(self):
        return ", ".join(map(str, self.shape))


class Flatten(Reshape):
    """(N, d1, d2, ...) -> (N, d1·d2·...)."""

    def __init__(self):
        super().__init__(())

    def _target(self, x):
        return (int(np.prod(x.shape[1:])),)

    def extra_repr(self):
        return ""
