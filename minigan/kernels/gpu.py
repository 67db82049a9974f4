"""GPU fast paths: CuPy ElementwiseKernels for the elementwise chains, and the CUDA kernels of
gpu_kernels.cu (Philox random numbers, im2col, col2im as a gather, BatchNorm forward and
backward in one launch each) compiled once per process by CuPy.

Created on first use (importing this module imports CuPy; only kernels/ops.py and the GPU
generator, backend.py, do that, and only for CuPy arrays). Every function here serves a fast
version of a layer's plain math (dispatch.py), and tests/test_kernels.py checks that they agree.
"""
import functools
import os

import cupy
import numpy as np

_THREADS = 256


@functools.lru_cache(maxsize=None)
def _kernel(name):
    specs = {
        "leaky_fwd": ("T x, T slope", "T y", "y = x > 0 ? x : x * slope"),
        "leaky_bwd": ("T x, T dy, T slope", "T dx", "dx = x > 0 ? dy : dy * slope"),
        "keep_bwd": ("T dy, K keep, T scale", "T dx", "dx = keep ? dy * scale : T(0)"),
        "adam": ("T g0, T beta1, T beta2, T step_size, T bc2_sqrt, T eps, T wd",
                 "T param, T m, T v",
                 "T g = wd != T(0) ? g0 + wd * param : g0;"
                 "m = m * beta1 + (T(1) - beta1) * g;"
                 "v = v * beta2 + (T(1) - beta2) * (g * g);"
                 "param = param - step_size * (m / (sqrt(v) / bc2_sqrt + eps));"),
    }
    params, outs, body = specs[name]
    return cupy.ElementwiseKernel(params, outs, body, f"minigan_{name}")


@functools.lru_cache(maxsize=None)
def _module(device_id):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpu_kernels.cu")) as f:
        source = f.read()
    return cupy.RawModule(code=source, options=("--fmad=false",))


_functions = {}


def _raw(name, dtype):
    """The compiled kernel ``name`` for float32 or float64 (looked up once, then kept)."""
    key = (name, dtype == np.float32, cupy.cuda.runtime.getDevice())
    function = _functions.get(key)
    if function is None:
        suffix = "_f32" if dtype == np.float32 else "_f64"
        function = _functions[key] = _module(key[2]).get_function(name + suffix)
    return function


def _grid(work, per_thread=1):
    """Blocks for ``work`` items (``per_thread`` each) at 256 threads a block; the kernels
    loop over the rest (grid-stride), so the count is capped."""
    return (max(1, min(-(-work // (_THREADS * per_thread)), 1 << 20)),)


def _float_kind_ok(*arrays):
    return all(a.dtype in (np.float32, np.float64) for a in arrays) and \
        all(a.dtype == arrays[0].dtype for a in arrays)


# ------------------------------------------------------------------- elementwise chains
def leaky_relu_forward(x, slope, out):
    return _kernel("leaky_fwd")(x, slope, out)


def leaky_relu_backward(x, dy, slope, out):
    return _kernel("leaky_bwd")(x, dy, slope, out)


def dropout_keep_backward(dy, keep, scale, out):
    return _kernel("keep_bwd")(dy, keep, scale, out)


def dropout_philox(x2, key, threshold, scale, first_sample):
    """(y, keep as uint8) for a C-contiguous (F, N) array, the mask made by Philox in the kernel."""
    if not (_float_kind_ok(x2) and x2.flags.c_contiguous):
        return None
    F, N = x2.shape
    y, keep = cupy.empty_like(x2), cupy.empty(x2.shape, dtype=np.uint8)
    if x2.size:
        _raw("dropout_philox", x2.dtype)(
            _grid(-(-F // 4) * N), (_THREADS,),
            (x2, np.int64(F), np.int64(N), np.uint64(first_sample), np.uint32(key[0]),
             np.uint32(key[1]), np.uint64(threshold), x2.dtype.type(scale), y, keep))
    return y, keep


def adam_update(param, grad, m, v, beta1, beta2, step_size, bc2_sqrt, eps, wd):
    _kernel("adam")(grad, beta1, beta2, step_size, bc2_sqrt, eps, wd, param, m, v)


# ------------------------------------------------------------------- TF32 matrix products
def tf32_matmul(a, b, out):
    """cupy.matmul with cuBLAS's TF32 compute type for float32 (CuPy's per-dtype setting,
    the one its CUPY_TF32=1 switches on for every product), restored afterwards."""
    from cupy._core import _routines_linalg as linalg
    previous = linalg.get_compute_type(a.dtype)
    linalg.set_compute_type(a.dtype, getattr(linalg, "COMPUTE_TYPE_TF32", 7))
    try:
        return cupy.matmul(a, b, out=out)
    finally:
        linalg.set_compute_type(a.dtype, previous)


# ------------------------------------------------------------------- Philox random numbers
def philox_fill(kind, shape, dtype, counter, key):
    """A new array of ``shape`` filled by Philox4x32-10 from block ``counter`` (philox.py)."""
    out = cupy.empty(shape, dtype=dtype)
    n = out.size
    if n == 0:
        return out
    per_block = 4 if kind == "normal" or dtype == np.float32 else 2
    name = "philox_uniform" if kind == "uniform" else "philox_normal"
    _raw(name, dtype)(_grid(n, per_block), (_THREADS,),
                      (out, np.int64(n), np.uint64(counter), np.uint32(key[0]), np.uint32(key[1])))
    return out


# ------------------------------------------------------------------- im2col / col2im
def im2col(x, kh, kw, sh, sw, ph, pw, Ho, Wo, out):
    """out (C, kh, kw, Ho, Wo, N), C-contiguous, from x (C, H, W, N) with any strides."""
    if not (_float_kind_ok(x, out) and out.flags.c_contiguous):
        return None
    C, H, W, N = x.shape
    strides = [np.int64(s // x.itemsize) for s in x.strides]
    _raw("im2col", x.dtype)(_grid(out.size), (_THREADS,),
                            (x, *strides, *(np.int32(v) for v in (C, H, W, N, kh, kw, sh, sw, ph, pw,
                                                                  Ho, Wo)), out))
    return out


def col2im(cols, kh, kw, sh, sw, ph, pw, out):
    """out (C, H, W, N) = the gather-sum of cols (C, kh, kw, Ho, Wo, N); both C-contiguous."""
    if not (_float_kind_ok(cols, out) and cols.flags.c_contiguous and out.flags.c_contiguous):
        return None
    C, _, _, Ho, Wo, N = cols.shape
    H, W = out.shape[1], out.shape[2]
    _raw("col2im", cols.dtype)(_grid(out.size), (_THREADS,),
                               (cols, *(np.int32(v) for v in (C, H, W, N, kh, kw, sh, sw, ph, pw,
                                                              Ho, Wo)), out))
    return out


# ------------------------------------------------------------------- BatchNorm
def _block_for_rows(m):
    """Threads per channel block: a power of two from 32 to 1024, about the row length."""
    return max(32, min(1024, 1 << (int(m) - 1).bit_length()))


def batchnorm_forward(x2, gamma, beta, eps, running):
    """Training BatchNorm over the rows of a C-contiguous (C, M) array in one launch:
    (y, x̂, μ, σ², 1/√(σ² + ε)); with ``running`` = (running_mean, running_var, momentum) the
    running estimates are updated in the same launch."""
    if not (_float_kind_ok(x2, gamma, beta) and x2.flags.c_contiguous):
        return None
    C, M = x2.shape
    y, x_hat = cupy.empty_like(x2), cupy.empty_like(x2)
    mean, var, inv_std = (cupy.empty(C, dtype=x2.dtype) for _ in range(3))
    if running is not None:
        running_mean, running_var, momentum = running
        update = 1
        scalars = (1.0 - momentum, momentum, momentum * M / (M - 1))
    else:
        running_mean, running_var, update, scalars = mean, var, 0, (0.0, 0.0, 0.0)
    _raw("batchnorm_forward", x2.dtype)(
        (C,), (_block_for_rows(M),),
        (x2, np.int64(M), gamma, beta, np.float64(eps), x_hat, y, mean, var, inv_std,
         running_mean, running_var, *(np.float64(s) for s in scalars), np.int32(update)))
    return y, x_hat, mean, var, inv_std


def batchnorm_backward(dy2, x_hat, gamma, inv_std, dgamma, dbeta):
    """Training BatchNorm backward over (C, M) rows in one launch; adds into dgamma/dbeta."""
    if not (_float_kind_ok(dy2, x_hat, gamma, inv_std, dgamma, dbeta)
            and dy2.flags.c_contiguous and x_hat.flags.c_contiguous):
        return None
    C, M = dy2.shape
    dx = cupy.empty_like(dy2)
    _raw("batchnorm_backward", dy2.dtype)(
        (C,), (_block_for_rows(M),), (dy2, x_hat, np.int64(M), gamma, inv_std, dgamma, dbeta, dx))
    return dx


# ------------------------------------------------------------------- many tensors in one launch
_tables = {}


def _pointer_table(arrays):
    """(device table of the arrays' addresses, device offsets) — cached by address, so a step
    that reuses the same parameter arrays uploads nothing."""
    key = tuple(a.data.ptr for a in arrays) + tuple(a.size for a in arrays)
    table = _tables.get(key)
    if table is None:
        if len(_tables) > 64:
            _tables.clear()
        offsets = np.concatenate([[0], np.cumsum([a.size for a in arrays])]).astype(np.int64)
        table = _tables[key] = (cupy.asarray(np.array([a.data.ptr for a in arrays], np.uint64)),
                                cupy.asarray(offsets), int(offsets[-1]))
    return table


def _many_ok(*groups):
    first = groups[0][0]
    return all(len(g) == len(groups[0]) for g in groups) and all(
        a.dtype == first.dtype and a.flags.c_contiguous and isinstance(a, cupy.ndarray)
        for g in groups for a in g) and first.dtype in (np.float32, np.float64)


def adam_many(params, grads, exp_avgs, exp_avg_sqs, beta1, beta2, step_size, bc2_sqrt, eps, wd):
    """One Adam step for every (param, grad, m, v) in one launch; False if it cannot."""
    groups = (params, grads, exp_avgs, exp_avg_sqs)
    if not params or not _many_ok(*groups):
        return False
    tables = [_pointer_table(g) for g in groups]
    offsets, total = tables[0][1], tables[0][2]
    t = params[0].dtype.type
    _raw("adam_many", params[0].dtype)(
        _grid(total), (_THREADS,),
        (*(tab for tab, _, _ in tables), offsets, np.int32(len(params)),
         *(t(s) for s in (beta1, beta2, step_size, bc2_sqrt, eps, wd))))
    return True


def zero_many(arrays):
    """Set every array to 0 in one launch; False if it cannot."""
    if not arrays or not _many_ok(arrays):
        return False
    table, offsets, total = _pointer_table(arrays)
    _raw("zero_many", arrays[0].dtype)(_grid(total), (_THREADS,), (table, offsets, np.int32(len(arrays))))
    return True


# ------------------------------------------------------------------- BCEWithLogits
@functools.lru_cache(maxsize=None)
def _bce_kernels():
    term = "(x > T(0) ? x : T(0)) - x * t + log1p(exp(-fabs(x)))"
    total = cupy.ReductionKernel("T x, T t", "float64 total", f"(double)({term})", "a + b",
                                 "total = a", "0", "minigan_bce_logits_sum", reduce_type="double")
    grad = cupy.ElementwiseKernel(
        "T x, T t, T n", "T g",
        "T e = exp(-fabs(x)); T s = x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e); g = (s - t) / n",
        "minigan_bce_logits_grad")
    return total, grad


def bce_with_logits_sum(x, t):
    """Σ max(x, 0) − x·t + log(1 + e^−|x|) (each term in x's dtype, summed in float64) as a
    0-d float64 array: one launch instead of nine."""
    return _bce_kernels()[0](x, t)


def bce_with_logits_grad(x, t):
    """(σ(x) − t) / n with the stable σ of activation.py, in one launch instead of about ten."""
    return _bce_kernels()[1](x, t, x.dtype.type(x.size))
