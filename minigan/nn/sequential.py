"""Sequential: a chain of modules."""
from .module import Module


class Sequential(Module):
    """y = f_k(...f_2(f_1(x))); backward runs the chain in reverse:
    dx = f_1.backward(f_2.backward(... f_k.backward(dy))).
    Sub-modules are named "0", "1", ... as in PyTorch."""

    def __init__(self, *modules):
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: item {i} is a {type(m).__name__}, not a Module")
            setattr(self, str(i), m)

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        setattr(self, str(len(self)), module)
        return self

    def forward(self, x):
        for m in self:
            x = m(x)
        return x

    def backward(self, grad_output, need_input_grad=True):
        """Backward through the chain. With ``need_input_grad=False`` (the input is data or a
        detached fake batch) the first layer skips computing dL/dx, if it can, and the result
        is None — as PyTorch skips gradients of inputs that do not require them."""
        modules = list(self)
        for i, m in enumerate(reversed(modules)):
            if i == len(modules) - 1 and not need_input_grad and getattr(m, "can_skip_input_grad", False):
                return m.backward(grad_output, need_input_grad=False)
            grad_output = m.backward(grad_output)
        return grad_output
