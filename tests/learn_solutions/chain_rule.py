"""Exercise 1 — the chain rule on scalars (a micrograd-sized ``Value``).

Every number of a computation is a node; each operation makes a new node and remembers its
inputs. Backprop visits the nodes from the output back to the inputs and, at each node ``out``
made from inputs ``a`` (and ``b``), adds

    a.grad += (∂out/∂a) · out.grad          (the chain rule: local derivative × upstream)

Why ``+=``: a node used twice (``x * x``) receives a gradient from each use, and they add up.

Tiny graph, by hand: L = (a·b + a)·c with a = 2, b = −3, c = 4.
    e = a·b = −6,  d = e + a = −4,  L = d·c = −16
    dL/dL = 1;  dL/dd = c = 4;  dL/dc = d = −4;  dL/de = dL/dd = 4;
    dL/da = dL/de·b + dL/dd·1 = −12 + 4 = −8;  dL/db = dL/de·a = 8.

Write the ``_backward`` of each operation (the forward and the topological order are given).
Hint: inside ``_backward`` the upstream gradient is ``out.grad``.
Check:  python -m minigan.learn check chain_rule
"""
import math


class Value:
    """A scalar that remembers how it was made: ``data``, ``grad`` (dL/d self) and its inputs."""

    def __init__(self, data, _prev=()):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_prev)
        self._backward = lambda: None        # adds this node's gradient into its inputs' .grad

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():                     # out = a + b:  ∂out/∂a = 1,  ∂out/∂b = 1
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():                     # out = a·b:  ∂out/∂a = b,  ∂out/∂b = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        assert isinstance(k, (int, float)), "only constant exponents"
        out = Value(self.data ** k, (self,))

        def _backward():                     # out = aᵏ:  ∂out/∂a = k·aᵏ⁻¹
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,))

        def _backward():                     # out = tanh(a):  ∂out/∂a = 1 − tanh(a)² = 1 − out²
            self.grad += (1 - out.data ** 2) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,))

        def _backward():                     # out = eᵃ:  ∂out/∂a = eᵃ = out
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    # everything else is made of the operations above, so it needs no backward of its own
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * (other if isinstance(other, Value) else Value(other)) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return Value(other) - self

    def backward(self):
        """dL/d(node) for every node that L = self depends on (given: no need to change it)."""
        order, seen = [], set()

        def visit(v):                        # inputs before the nodes made from them
            if id(v) not in seen:
                seen.add(id(v))
                for child in v._prev:
                    visit(child)
                order.append(v)
        visit(self)
        for v in order:
            v.grad = 0.0
        self.grad = 1.0                      # dL/dL
        for v in reversed(order):            # outputs first: each node's grad is complete
            v._backward()                    # before it is passed on

    def __repr__(self):
        return f"Value(data={self.data:.4g}, grad={self.grad:.4g})"
