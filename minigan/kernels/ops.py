"""The raw fast kernels, one call each: numba on the CPU (cpu.py), CUDA on a GPU (gpu.py).

The fast versions of the layers' operations (the other files of this package) call these.
One return convention: the result (new arrays, or the arrays it updated in place), or ``None``
when the kernel cannot help (a memory layout or device it does not handle, the fast path
switched off, or this kernel switched off by name) — the caller then does the work another way:

* NumPy arrays -> numba kernels (``cpu.py``), parallel over both cores;
* CuPy arrays  -> CuPy ElementwiseKernels and the CUDA kernels of ``gpu_kernels.cu``
  (``gpu.py``) where one launch replaces several: on a GPU a small step is bound by the
  number of launches more than by arithmetic.

Single kernels can be switched off by name (``NAMES``; benchmarks/bench_step.py measures each
one's effect this way): ``MINIGAN_KERNELS_OFF=col2im,batchnorm`` (dispatch.py).
"""
import numpy as np

from .. import dispatch
from ..arrays import get_array_module

NAMES = ("leaky_relu", "dropout", "batchnorm", "adam", "adam_many", "zero_many", "im2col",
         "col2im", "bce_with_logits", "conv_taps", "winograd")


def _cpu():
    from . import cpu
    return cpu


def _gpu():
    from . import gpu
    return gpu


def _backend(*arrays, name=None):
    """'cpu' (numba), 'gpu' (CuPy kernels), or None when the fast paths (or this one) are off."""
    if not dispatch.ENABLED or name in dispatch.DISABLED:
        return None
    return "cpu" if get_array_module(arrays[0]) is np else "gpu"


def _flat(a):
    """A 1-D view of ``a``'s memory when it is one dense block (any axis order), else None."""
    v = a.ravel(order="K")
    return v if np.may_share_memory(a, v) else None


def _same_layout(*arrays):
    return all(a.strides == arrays[0].strides and a.shape == arrays[0].shape for a in arrays[1:])


def _elementwise(name, cpu_kernel, gpu_kernel, out_like, *arrays, scalars=()):
    """Run a flat elementwise kernel over arrays that share one memory layout."""
    backend = _backend(out_like, name=name)
    if backend is None or not _same_layout(out_like, *arrays):
        return None
    xp = get_array_module(out_like)
    if backend == "gpu":
        return _elementwise_gpu(xp, gpu_kernel, out_like, arrays, scalars)
    out = xp.empty_like(out_like)       # same memory layout as the inputs
    flats = [_flat(a) for a in (*arrays, out)]
    if any(f is None for f in flats):
        return None
    cpu_kernel(*flats[:-1], *scalars, flats[-1])
    return out


_dense_layouts = {}


def _dense(a):
    """True when ``a`` is one dense block of memory in some axis order with positive strides
    (C order, or the batch-last order of minigan's fast layers, layout.py); remembered per
    (shape, strides, itemsize), since a training step meets the same few layouts again and again."""
    key = (a.shape, a.strides, a.itemsize)
    dense = _dense_layouts.get(key)
    if dense is None:
        if len(_dense_layouts) > 256:                 # bounded, like gpu.py's pointer tables
            _dense_layouts.clear()
        extents = sorted((s, n) for s, n in zip(a.strides, a.shape) if n > 1)
        expected = a.itemsize
        dense = True
        for stride, n in extents:
            dense = dense and stride == expected
            expected *= n
        _dense_layouts[key] = dense
    return dense


def _elementwise_gpu(xp, gpu_kernel, out_like, arrays, scalars):
    """The kernel over 1-D views of memory when the arrays are dense blocks of one layout: a
    GPU thread per element of memory, so neighbouring threads touch neighbouring addresses (on
    the logical NCHW view of a batch-last array they would be N elements apart, and the kernel
    several times slower); the result gets ``out_like``'s layout. Otherwise over the arrays as
    they are."""
    if not all(_dense(a) for a in (out_like, *arrays)):
        return gpu_kernel(*arrays, *scalars, xp.empty_like(out_like))
    n = out_like.size
    out = xp.empty(n, dtype=out_like.dtype)
    gpu_kernel(*(xp.ndarray((n,), a.dtype, a.data) for a in arrays), *scalars, out)
    return xp.ndarray(out_like.shape, out_like.dtype, out.data, strides=out_like.strides)


# Elementwise and BatchNorm CPU kernels on fewer numbers than this run on one thread (cpu.py
# says why).
SERIAL_BELOW = 1 << 21


def leaky_relu(x, slope):
    """y = x if x > 0 else slope·x, or None."""
    s = x.dtype.type(slope)
    serial = x.size < SERIAL_BELOW
    return _elementwise("leaky_relu",
                        lambda *a: (_cpu().leaky_relu_forward_serial if serial else _cpu().leaky_relu_forward)(*a),
                        lambda *a: _gpu().leaky_relu_forward(*a),
                        x, x, scalars=(s,))


def leaky_relu_grad(x, dy, slope):
    """dx = dy if x > 0 else slope·dy, or None."""
    s = x.dtype.type(slope)
    serial = x.size < SERIAL_BELOW
    return _elementwise("leaky_relu",
                        lambda *a: (_cpu().leaky_relu_backward_serial if serial else _cpu().leaky_relu_backward)(*a),
                        lambda *a: _gpu().leaky_relu_backward(*a),
                        x, x, dy, scalars=(s,))


def dropout_philox(x2, key, threshold, scale, first_sample):
    """Dropout of a C-contiguous (F, N) array with its keep mask made in the kernel (Philox,
    nn/dropout.py's ``keep_mask``): returns (y, keep as uint8), or None. The numba kernel and
    the CUDA kernel make the same mask bits."""
    backend = _backend(x2, name="dropout")
    if backend is None or not x2.flags.c_contiguous:
        return None
    if backend == "gpu":
        return _gpu().dropout_philox(x2, key, threshold, scale, first_sample)
    y, keep = np.empty_like(x2), np.empty(x2.shape, dtype=np.uint8)
    _cpu().dropout_philox_forward(x2, np.uint64(key[0]), np.uint64(key[1]), np.uint64(threshold),
                                  x2.dtype.type(scale), int(first_sample), y, keep)
    return y, keep


def dropout_keep_grad(dy, keep, scale):
    """dx = dy·scale where keep, else 0 (keep: the uint8 mask of ``dropout_philox``), or None."""
    backend = _backend(dy, name="dropout")
    if backend is None or dy.shape != keep.shape:
        return None
    if dy.strides != tuple(s * dy.itemsize for s in keep.strides):    # not one memory order
        return None
    if backend == "gpu":
        return _elementwise_gpu(get_array_module(dy), _gpu().dropout_keep_backward, dy, (dy, keep),
                                (dy.dtype.type(scale),))
    out = np.empty_like(dy)
    flats = [_flat(a) for a in (dy, keep, out)]
    if any(f is None for f in flats):
        return None
    _cpu().dropout_keep_backward(flats[0], flats[1], dy.dtype.type(scale), flats[2])
    return out


def batchnorm_forward(x2, gamma, beta, eps, running=None):
    """Training BatchNorm on rows of a C-contiguous (C, M) array -> (y, x̂, μ, σ², 1/√(σ²+ε),
    running_updated), or None. ``running`` = (running_mean, running_var, momentum): the GPU
    kernel also moves the running estimates (running_updated True); the CPU kernel leaves
    that to the caller (False)."""
    backend = _backend(x2, name="batchnorm")
    if backend is None or not x2.flags.c_contiguous:
        return None
    if backend == "gpu":
        out = _gpu().batchnorm_forward(x2, gamma, beta, eps, running)
        return None if out is None else out + (running is not None,)
    C = x2.shape[0]
    y, x_hat = np.empty_like(x2), np.empty_like(x2)
    mean, var, inv_std = (np.empty(C, dtype=np.float64) for _ in range(3))
    kernel = _cpu().batchnorm_forward_serial if x2.size < SERIAL_BELOW else _cpu().batchnorm_forward
    kernel(x2, gamma, beta, eps, x_hat, y, mean, var, inv_std)
    return y, x_hat, mean.astype(x2.dtype), var.astype(x2.dtype), inv_std.astype(x2.dtype), False


def batchnorm_backward(dy2, x_hat, gamma, inv_std, dgamma, dbeta):
    """Training BatchNorm backward on (C, M) rows; adds into dgamma/dbeta; returns dx or None."""
    backend = _backend(dy2, name="batchnorm")
    if backend is None or not (dy2.flags.c_contiguous and x_hat.flags.c_contiguous):
        return None
    if backend == "gpu":
        return _gpu().batchnorm_backward(dy2, x_hat, gamma, inv_std, dgamma, dbeta)
    dx = np.empty_like(dy2)
    kernel = _cpu().batchnorm_backward_serial if dy2.size < SERIAL_BELOW else _cpu().batchnorm_backward
    kernel(dy2, x_hat, gamma, inv_std, dgamma, dbeta, dx)
    return dx


# Adam on parameters of fewer numbers than this runs on one thread (cpu.adam_update_serial).
ADAM_SERIAL_BELOW = 1 << 14


def adam_update(param, grad, exp_avg, exp_avg_sq, beta1, beta2, step_size, bias_correction2_sqrt,
                eps, weight_decay):
    """One fused Adam step in place; returns ``param``, or None when the caller must."""
    backend = _backend(param, name="adam")
    if backend is None or not all(a.flags.c_contiguous for a in (param, grad, exp_avg, exp_avg_sq)):
        return None
    t = param.dtype.type
    scalars = (t(beta1), t(beta2), t(step_size), t(bias_correction2_sqrt), t(eps), t(weight_decay))
    if backend == "gpu":
        _gpu().adam_update(param, grad, exp_avg, exp_avg_sq, *scalars)
    else:
        kernel = _cpu().adam_update_serial if param.size < ADAM_SERIAL_BELOW else _cpu().adam_update
        kernel(param.reshape(-1), grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
               *scalars)
    return param


# im2col into fewer column numbers than this runs on one thread (cpu.im2col_serial says why).
IM2COL_SERIAL_BELOW = 5_000_000


def im2col(x, kernel, stride, padding, out_hw, out):
    """im2col into ``out`` (C, kh, kw, Ho, Wo, N) in one pass (numba, or one CUDA kernel that
    also reads a strided x); returns ``out`` or None."""
    backend = _backend(x, name="im2col")
    args = (kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1], out_hw[0], out_hw[1], out)
    if backend == "gpu":
        return _gpu().im2col(x, *args)
    if backend is None or not (x.flags.c_contiguous and out.flags.c_contiguous):
        return None
    (_cpu().im2col_serial if out.size < IM2COL_SERIAL_BELOW else _cpu().im2col)(x, *args)
    return out


def gather_rows(x, h0, w0, sh, sw, out):
    """A run of rows of nn/conv_taps.py in one parallel pass:
    out[i, j, c, a, b, :] = x[c, h0 + a·sh + i, w0 + b·sw + j, :] (0 outside x's columns);
    returns ``out`` or None."""
    if _backend(x, name="im2col") != "cpu" or not (x.flags.c_contiguous and out.flags.c_contiguous):
        return None
    _cpu().gather_rows(x, h0, w0, sh, sw, out)
    return out


def col2im(cols, kernel, stride, padding, out):
    """col2im into ``out`` (C, H, W, N): on the CPU a thread per channel adding its columns in
    memory order (numba), on a GPU a gather per output pixel (one CUDA kernel); no atomics,
    deterministic; or None."""
    backend = _backend(cols, name="col2im")
    args = (kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1], out)
    if backend == "gpu":
        return _gpu().col2im(cols, *args)
    if backend is None or not (cols.flags.c_contiguous and out.flags.c_contiguous):
        return None
    _cpu().col2im(cols, *args)
    return out


def conv_taps(x):
    """True when convolutions on ``x`` may skip the padding's work (conv_taps.py: runs of
    rows without their padded kernel rows, transposed convolutions by phases, no col2im; the
    fast convolutions apply its size rules) rather than always run one GEMM over a zero-padded
    im2col. CPU only: on a GPU one launch per run costs more
    than the zeros it saves, so the single GEMM stays there."""
    return _backend(x, name="conv_taps") == "cpu"


def winograd(x):
    """True when the 4×4 stride-2 convolutions on ``x`` may run as Winograd tiles
    (winograd.py; its ``applies`` has the shape rules). CPU only (numba)."""
    return _backend(x, name="winograd") == "cpu"


def _winograd_cpu():
    from . import winograd_cpu
    return winograd_cpu


# The transforms of winograd.py (numba, winograd_cpu.py) on C-contiguous arrays, CPU only
# (winograd.applies has checked); each fills its last argument.
def winograd_weight(w, U):
    _winograd_cpu().weight_transform(w, U)


def winograd_input(x, V):
    _winograd_cpu().input_transform(x, V)


def winograd_gradient(dy, E):
    _winograd_cpu().output_transform_adjoint(dy, E)


def winograd_output(M, y):
    _winograd_cpu().output_transform(M, y)


def winograd_input_adjoint(dV, dx):
    _winograd_cpu().input_transform_adjoint(dV, dx)


def winograd_weight_adjoint(dU, dweight):
    """dweight += the weights' adjoint transform of dU (a copy first where dweight is strided)."""
    if dweight.flags.c_contiguous:
        _winograd_cpu().weight_transform_adjoint(dU, dweight)
        return
    dw = np.zeros(dweight.shape, dweight.dtype)
    _winograd_cpu().weight_transform_adjoint(dU, dw)
    dweight += dw


def tf32_matmul(a, b, out=None):
    """cupy.matmul(a, b, out=out) with float32 products on TF32 tensor cores (im2col.py's
    ``conv_matmul``; a precision the user asks for)."""
    return _gpu().tf32_matmul(a, b, out)


def adam_many(params, grads, exp_avgs, exp_avg_sqs, beta1, beta2, step_size, bc2_sqrt, eps,
              weight_decay):
    """One Adam step for all the given parameters in a single GPU launch (the same arithmetic
    as ``adam_update``); returns ``params``, or None when the caller must go parameter by
    parameter. On the CPU the per-parameter numba kernel is already one pass each: GPU only."""
    if _backend(params[0], name="adam_many") != "gpu":
        return None
    done = _gpu().adam_many(params, grads, exp_avgs, exp_avg_sqs, beta1, beta2, step_size,
                            bc2_sqrt, eps, weight_decay)
    return params if done else None


def zero_many(arrays):
    """Set every array to 0 in one GPU launch; returns ``arrays``, or None when the caller must
    (the CPU, or fast paths off)."""
    if not arrays or _backend(arrays[0], name="zero_many") != "gpu":
        return None
    return arrays if _gpu().zero_many(arrays) else None


def bce_with_logits_mean(x, t):
    """mean(max(x, 0) − x·t + log(1 + e^−|x|)) as a 0-d float64 array on the GPU, or None (GPU
    only: one fused reduction; on the CPU NumPy's few passes over a (N, 1) batch cost nothing)."""
    if _backend(x, name="bce_with_logits") != "gpu" or x.dtype != t.dtype:
        return None
    return _gpu().bce_with_logits_sum(x, t) / x.size


def bce_with_logits_grad(x, t):
    """(σ(x) − t) / n, or None (GPU only)."""
    if _backend(x, name="bce_with_logits") != "gpu" or x.dtype != t.dtype:
        return None
    return _gpu().bce_with_logits_grad(x, t)
