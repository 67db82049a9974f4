"""Sequential: a chain of modules."""
from .module import Module


class Sequential(Module):
    """y = f_k(...f_2(f_1(x))); backward runs the chain in reverse:
    dx = f_1.backward(f_2.backward(... f_k.backward(dy))).
    Sub-modules are named "0", "1", ... as in PyTorch."""

    def __init__(self, *modules):
        super().__init__()
        for m in modules:
            self.append(m)

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add ``module`` at the end (a Module, and not one already in the chain: a module used
        twice would get wrong gradients, its backward keeping only the last input)."""
        i = len(self)
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: item {i} is a {type(module).__name__}, not a Module")
        new = {id(sub) for sub in module.modules()}
        for j, m in enumerate(self):
            if any(id(sub) in new for sub in m.modules()):
                raise ValueError(f"Sequential: item {i} ({type(module).__name__}) is already used "
                                 f"in item {j}; a module used twice in one forward would get wrong "
                                 f"gradients (its backward keeps only the last input): use a "
                                 f"separate module for each use")
        setattr(self, str(i), module)
        return self

    def forward(self, x):
        for m in self:
            x = m(x)
        return x

    def backward(self, grad_output, need_input_grad=True):
        """Backward through the chain. ``need_input_grad`` goes to the first module (the one
        that sees the chain's input); every later one must pass its dL/dx on."""
        modules = list(self)
        for i, m in enumerate(reversed(modules)):
            grad_output = m.backward(grad_output, need_input_grad=need_input_grad if i == len(modules) - 1 else True)
        return grad_output
