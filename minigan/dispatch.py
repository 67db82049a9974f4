"""The one place where minigan chooses between the plain math and a fast version of it.

A layer file holds the math as a student should read it, in NumPy/CuPy, one path. An operation
that has a faster implementation is marked with one line,

    @fast_version("Conv2d.forward")        # the fast version of this operation, if registered
    def forward(self, x):
        ...the plain math...

and minigan/kernels/ registers the fast version under the same name (``@register("Conv2d.forward")``):
numba kernels on the CPU, CUDA kernels on a GPU, the padding-free convolutions, fused
BatchNorm, reused workspaces, the batch-last memory layout. A fast version takes the same
arguments as the plain function and returns the same result, or ``NotImplemented`` when it
cannot help (a device, dtype or memory layout it does not handle): then the plain math runs.

Which path runs is decided here and only here:

* ``fast`` (the default): a registered fast version first, the plain math where none applies;
* ``plain``: the plain math only — ``MINIGAN_KERNELS=numpy`` in the environment, or
  ``with minigan.dispatch.use("plain"):`` in code (the tests run every check both ways).

A layer's forward and backward go together: the backward runs on the path its layer's last
forward ran on (a fast forward keeps what its own backward needs, in its own layout).
Single fast kernels can also be switched off by name for measurements,
``MINIGAN_KERNELS_OFF=col2im,batchnorm`` (kernels/ops.py's ``NAMES``).
"""
import contextlib
import functools
import os

PATHS = ("plain", "fast")
ENABLED = os.environ.get("MINIGAN_KERNELS", "fast") != "numpy"     # the fast path is on
DISABLED = set(filter(None, os.environ.get("MINIGAN_KERNELS_OFF", "").split(",")))

_fast = {}          # operation name -> its fast version


def register(name):
    """Decorator for a fast version of the operation ``name`` (one per name)."""
    def add(function):
        if name in _fast:
            raise ValueError(f"a fast version of {name!r} is already registered ({_fast[name]!r})")
        _fast[name] = function
        return function
    return add


def registered():
    """The names of the operations that have a fast version."""
    return sorted(_fast)


def path():
    """'fast' or 'plain': the path operations take now."""
    return "fast" if ENABLED else "plain"


@contextlib.contextmanager
def use(name):
    """Within the block, operations take path ``name`` ('plain' or 'fast')."""
    global ENABLED
    if name not in PATHS:
        raise ValueError(f"unknown path {name!r}: expected one of {PATHS}")
    before, ENABLED = ENABLED, name == "fast"
    try:
        yield
    finally:
        ENABLED = before


def fast_version(name):
    """Decorator for the plain math of operation ``name``: at call time its fast version runs
    instead when the fast path is on and one is registered and accepts the arguments.

    For a layer's ``X.forward`` the path taken is remembered on the layer (``_path``), and its
    ``X.backward`` takes the same one."""
    kind = name.rsplit(".", 1)[-1]

    def wrap(plain):
        @functools.wraps(plain)
        def dispatched(*args, **kwargs):
            fast = _fast.get(name) if ENABLED else None
            if kind == "backward":
                if args[0].__dict__.get("_path") == "fast":
                    return _fast[name](*args, **kwargs)
                return plain(*args, **kwargs)
            result = NotImplemented if fast is None else fast(*args, **kwargs)
            taken = "fast" if result is not NotImplemented else "plain"
            if taken == "plain":
                result = plain(*args, **kwargs)
            if kind == "forward":
                object.__setattr__(args[0], "_path", taken)
            return result
        dispatched.plain = plain
        dispatched.operation = name
        return dispatched
    return wrap
