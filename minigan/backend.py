"""Array backends: NumPy on the CPU, CuPy on a CUDA GPU.

Every layer asks the array it is given which module to use (``xp = get_array_module(x)``,
arrays.py), so the same code runs on both devices. CuPy is imported only when a GPU is
actually asked for — here (``to_device``, ``cuda_available``), in the GPU kernels
(kernels/gpu.py) and in the Julia-set GPU path (data/julia.py) — so a CPU-only machine never
needs it installed.

Random numbers used by minigan (weight initialisation, Dropout masks, the noise the GAN
examples draw) come from one generator per device, seeded together by :func:`seed`, so a
run is reproducible and its random state can be saved in a checkpoint: NumPy's PCG64 on the
CPU, and on the GPU a Philox4x32-10 counter-based generator (philox.py) whose whole state is
a key and a counter.
"""
import contextlib

import numpy as np

from .arrays import device_of, get_array_module  # noqa: F401  (re-exported: mg.backend.device_of)
from .philox import PhiloxGenerator

DEVICES = ("cpu", "cuda")

# On a GPU, run the convolutions' matrix products on TF32 tensor cores (inputs rounded to 10-bit
# mantissas, float32 sums): the precision of PyTorch's cuDNN convolutions by default
# (torch.backends.cudnn.allow_tf32). Off by default: minigan computes in float32 throughout.
# Needs a GPU of compute capability 8.0 or higher (A100, H100, ...); ignored on the CPU.
conv_tf32 = False

_cupy = None          # the cupy module once imported
_generators = {}      # device -> numpy / cupy random Generator
_seed_value = None


def _import_cupy():
    """Import CuPy on first use; a clear error when it is missing."""
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise RuntimeError(
                "device 'cuda' needs CuPy: pip install -e '.[gpu-cuda12]' or '.[gpu-cuda13]' (the "
                "CUDA version nvidia-smi prints) on a machine with an NVIDIA GPU") from exc
        _cupy = cupy
    return _cupy


def cuda_available():
    """True when CuPy imports and sees at least one CUDA device."""
    try:
        cupy = _import_cupy()
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def check_device(device):
    """Validate a device name; returns it."""
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}: expected one of {DEVICES}")
    return device


def to_device(x, device):
    """Return ``x`` as an array on ``device`` ('cpu' or 'cuda'); no copy when already there."""
    check_device(device)
    if device == "cpu":
        return asnumpy(x)
    cupy = _import_cupy()
    return cupy.asarray(x)


def asnumpy(x):
    """A NumPy array holding ``x`` (copied from the GPU when it lives there)."""
    xp = get_array_module(x)
    if xp is np:
        return np.asarray(x)
    return xp.asnumpy(x)


def array_module_for(device):
    """The array module that serves ``device``."""
    return np if check_device(device) == "cpu" else _import_cupy()


def _new_generator(device, seed_value):
    check_device(device)
    if device == "cpu":
        return np.random.default_rng(seed_value)
    return PhiloxGenerator(seed_value, device="cuda", fill=_philox_fill_gpu)


def _philox_fill_gpu(kind, shape, dtype, counter, key):
    """The GPU generator's numbers, made by a CUDA kernel (kernels/gpu.py) on the device."""
    from .kernels import gpu
    return gpu.philox_fill(kind, shape, dtype, counter, key)


def seed(n):
    """Seed minigan's random generators (NumPy's on the CPU, Philox on the GPU)."""
    global _seed_value
    _seed_value = int(n)
    _generators.clear()
    _generators["cpu"] = _new_generator("cpu", _seed_value)
    _generators["cuda"] = _new_generator("cuda", _seed_value)   # imports no CuPy until it draws


def rng(device="cpu"):
    """The random Generator minigan draws from on ``device`` (created unseeded on first use):
    a NumPy Generator for 'cpu', a :class:`~minigan.philox.PhiloxGenerator` for 'cuda'."""
    gen = _generators.get(device)
    if gen is None:
        gen = _generators[device] = _new_generator(device, _seed_value)
    return gen


def rng_state():
    """JSON-able state of every generator in use, for checkpoints."""
    state = {}
    for device, gen in _generators.items():
        state[device] = gen.bit_generator.state if device == "cpu" else gen.state
    return state


def set_rng_state(state):
    """Restore what :func:`rng_state` returned. (A ``None`` entry, written before the GPU
    generator had a portable state, leaves that generator as it is.)"""
    for device, s in state.items():
        if s is None or device not in DEVICES:
            continue
        if device == "cpu":
            rng("cpu").bit_generator.state = s
        else:
            rng(device).state = s


@contextlib.contextmanager
def fixed_rng(device, seed_value):
    """Within the block, minigan draws on ``device`` from a fresh generator seeded with
    ``seed_value``; the previous generator (and its position) is restored afterwards.
    Used to replay a random forward (Dropout) identically, e.g. in gradient checks."""
    previous = _generators.get(device)
    _generators[device] = _new_generator(device, seed_value)
    try:
        yield
    finally:
        if previous is None:
            _generators.pop(device, None)
        else:
            _generators[device] = previous
