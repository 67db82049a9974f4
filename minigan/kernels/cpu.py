"""numba kernels for the CPU: the hot loops that NumPy cannot fuse or spread over cores.

Each kernel serves a fast version of a layer's plain math (dispatch.py), which runs when the
kernel cannot (``ops.py`` returns None then) or the fast path is off; tests/test_kernels.py
proves they agree. The kernels work on flat 1-D views of arrays that
share one memory layout, or on the batch-last (C, H, W, N) arrays of im2col.py, and are
parallel over elements or channels
(``prange``), never over a reduction, so results do not depend on the thread count.
Compiled on first use and cached on disk (``cache=True``).
"""
from .threads import configure_numba_threads

numba = configure_numba_threads()
import numpy as np  # noqa: E402
from numba import njit, prange  # noqa: E402


@njit(parallel=True, cache=True)
def leaky_relu_forward(x, slope, out):
    """out = x if x > 0 else slope·x   (flat arrays; slope in x's dtype)."""
    for i in prange(x.size):
        v = x[i]
        out[i] = v if v > 0 else v * slope


@njit(parallel=True, cache=True)
def leaky_relu_backward(x, dy, slope, out):
    """out = dy if x > 0 else slope·dy."""
    for i in prange(x.size):
        out[i] = dy[i] if x[i] > 0 else dy[i] * slope


# The same two loops on one thread, for small arrays: waking the parallel kernels' second
# thread costs ≈ 50–80 µs, more than the whole pass below ≈ 2M numbers here (a 131k-number
# LeakyReLU: 52 µs parallel, 6 µs serial; 1M: 90 vs 65 µs; 2M: a tie). ops.py picks.
@njit(cache=True)
def leaky_relu_forward_serial(x, slope, out):
    """out = x if x > 0 else slope·x, on one thread."""
    for k in range(x.size):
        out[k] = x[k] if x[k] > 0 else x[k] * slope


@njit(cache=True)
def leaky_relu_backward_serial(x, dy, slope, out):
    """out = dy if x > 0 else slope·dy, on one thread."""
    for k in range(x.size):
        out[k] = dy[k] * slope if x[k] <= 0 else dy[k]


_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
_LOW32, _32 = np.uint64(0xFFFFFFFF), np.uint64(32)


@njit(cache=True, inline="always")
def _philox4x32_10(counter, k0, k1):
    """Philox4x32-10 of block ``counter`` (uint64; counter words c2 = c3 = 0) under key
    (k0, k1): the same rounds as philox.py's NumPy reference, four uint32 words as uint64."""
    c0, c1 = counter & _LOW32, counter >> _32
    c2 = c3 = np.uint64(0)
    for _ in range(10):
        p0, p1 = _M0 * c0, _M1 * c2
        c0, c1, c2, c3 = (p1 >> _32) ^ c1 ^ k0, p1 & _LOW32, (p0 >> _32) ^ c3 ^ k1, p0 & _LOW32
        k0, k1 = (k0 + _W0) & _LOW32, (k1 + _W1) & _LOW32
    return c0, c1, c2, c3


@njit(parallel=True, cache=True)
def dropout_philox_forward(x, k0, k1, threshold, scale, first_sample, y, keep):
    """Dropout with its mask made here, on (F, N) arrays (feature f, sample n; rows
    contiguous): keep[f, n] = [word f mod 4 of Philox block (first_sample + n)·⌈F/4⌉ + ⌊f/4⌋
    ≥ threshold] (nn/dropout.py, ``keep_mask``, is the NumPy twin); y = x·scale where kept,
    else 0. One block serves four features of one sample; the loop over samples vectorises
    (AVX2's 32×32→64-bit multiplies are Philox's)."""
    F, N = x.shape
    B = (F + 3) // 4
    Bu = np.uint64(B)
    zero = scale * 0                                   # 0 in x's dtype
    for q in prange(B):
        f = 4 * q
        base = np.uint64((first_sample * B) + q)
        if f + 4 <= F:                                 # four features per block
            x0, x1, x2, x3 = x[f], x[f + 1], x[f + 2], x[f + 3]
            y0, y1, y2, y3 = y[f], y[f + 1], y[f + 2], y[f + 3]
            m0, m1, m2, m3 = keep[f], keep[f + 1], keep[f + 2], keep[f + 3]
            for n in range(N):
                w0, w1, w2, w3 = _philox4x32_10(base + np.uint64(n) * Bu, k0, k1)
                a0, a1, a2, a3 = w0 >= threshold, w1 >= threshold, w2 >= threshold, w3 >= threshold
                m0[n], m1[n], m2[n], m3[n] = a0, a1, a2, a3
                y0[n] = x0[n] * scale if a0 else zero
                y1[n] = x1[n] * scale if a1 else zero
                y2[n] = x2[n] * scale if a2 else zero
                y3[n] = x3[n] * scale if a3 else zero
        else:                                          # the last, partial block
            for n in range(N):
                words = _philox4x32_10(base + np.uint64(n) * Bu, k0, k1)
                for r in range(F - f):
                    a = words[r] >= threshold
                    keep[f + r, n] = a
                    y[f + r, n] = x[f + r, n] * scale if a else zero


@njit(parallel=True, cache=True)
def dropout_keep_backward(dy, keep, scale, out):
    """out = dy·scale where keep, else 0   (flat arrays of one memory layout)."""
    for i in prange(dy.size):
        out[i] = dy[i] * scale if keep[i] else 0


@njit(cache=True, fastmath={"reassoc"}, inline="always")
def _batchnorm_forward_row(c, x, gamma, beta, eps, x_hat, y, mean, var, inv_std):
    """Channel row c of x (C, M): μ, biased σ² (float64 sums), x̂, y = γ·x̂ + β.
    ``fastmath={"reassoc"}`` lets the sums run in vector lanes (partial sums added at the end,
    instead of one add after another: 4× fewer stalls); each channel's sums stay in one
    thread, in one fixed order, so results do not depend on the thread count."""
    M = x.shape[1]
    s = 0.0
    for k in range(M):
        s += x[c, k]
    mu = s / M
    ss = 0.0
    for k in range(M):
        d = x[c, k] - mu
        ss += d * d
    var_ = ss / M
    inv = 1.0 / np.sqrt(var_ + eps)
    mean[c] = mu
    var[c] = var_
    inv_std[c] = inv
    b = beta[c]
    for k in range(M):
        xh = (x[c, k] - mu) * inv
        x_hat[c, k] = xh
        y[c, k] = xh * gamma[c] + b


@njit(parallel=True, cache=True, fastmath={"reassoc"})
def batchnorm_forward(x, gamma, beta, eps, x_hat, y, mean, var, inv_std):
    """Training BatchNorm forward, a thread per channel row (_batchnorm_forward_row)."""
    for c in prange(x.shape[0]):
        _batchnorm_forward_row(c, x, gamma, beta, eps, x_hat, y, mean, var, inv_std)


@njit(cache=True, fastmath={"reassoc"})
def batchnorm_forward_serial(x, gamma, beta, eps, x_hat, y, mean, var, inv_std):
    """The same on one thread, for small maps (ops.SERIAL_BELOW: waking the second thread
    costs more than it saves; 262k numbers 139 → 73 µs, 1M 292 → 229 µs)."""
    for c in range(x.shape[0]):
        _batchnorm_forward_row(c, x, gamma, beta, eps, x_hat, y, mean, var, inv_std)


@njit(cache=True, fastmath={"reassoc"}, inline="always")
def _batchnorm_backward_row(c, dy, x_hat, gamma, inv_std, dgamma, dbeta, dx):
    """Training-mode BatchNorm backward of channel row c (see batchnorm.py for the math)."""
    M = dy.shape[1]
    sdy = 0.0
    sdyx = 0.0
    for k in range(M):
        sdy += dy[c, k]
        sdyx += dy[c, k] * x_hat[c, k]
    dgamma[c] += sdyx
    dbeta[c] += sdy
    # dx̂ = dy·γ  =>  mean(dx̂) = γ·Σdy/M,  mean(dx̂·x̂) = γ·Σ(dy·x̂)/M
    g = gamma[c]
    m1 = g * sdy / M
    m2 = g * sdyx / M
    scale = inv_std[c]
    for k in range(M):
        dx[c, k] = (dy[c, k] * g - m1 - x_hat[c, k] * m2) * scale


@njit(parallel=True, cache=True, fastmath={"reassoc"})
def batchnorm_backward(dy, x_hat, gamma, inv_std, dgamma, dbeta, dx):
    """Training BatchNorm backward, a thread per channel row (_batchnorm_backward_row)."""
    for c in prange(dy.shape[0]):
        _batchnorm_backward_row(c, dy, x_hat, gamma, inv_std, dgamma, dbeta, dx)


@njit(cache=True, fastmath={"reassoc"})
def batchnorm_backward_serial(dy, x_hat, gamma, inv_std, dgamma, dbeta, dx):
    """The same on one thread, for small maps (262k numbers 131 → 65 µs)."""
    for c in range(dy.shape[0]):
        _batchnorm_backward_row(c, dy, x_hat, gamma, inv_std, dgamma, dbeta, dx)


@njit(cache=True, inline="always")
def _adam_element(i, param, grad, exp_avg, exp_avg_sq, beta1, beta2, step_size,
                  bias_correction2_sqrt, eps, weight_decay):
    """Adam on number i of flat arrays, the same arithmetic as optim/adam.py's NumPy lines."""
    g = grad[i]
    if weight_decay != 0:
        g = g + weight_decay * param[i]
    m = exp_avg[i] * beta1 + (1 - beta1) * g
    v = exp_avg_sq[i] * beta2 + (1 - beta2) * (g * g)
    exp_avg[i] = m
    exp_avg_sq[i] = v
    param[i] = param[i] - step_size * (m / (np.sqrt(v) / bias_correction2_sqrt + eps))


@njit(parallel=True, cache=True)
def adam_update(param, grad, exp_avg, exp_avg_sq, beta1, beta2, step_size, bias_correction2_sqrt,
                eps, weight_decay):
    """One Adam step on flat arrays, parallel over their numbers."""
    for i in prange(param.size):
        _adam_element(i, param, grad, exp_avg, exp_avg_sq, beta1, beta2, step_size,
                      bias_correction2_sqrt, eps, weight_decay)


@njit(cache=True)
def adam_update_serial(param, grad, exp_avg, exp_avg_sq, beta1, beta2, step_size,
                       bias_correction2_sqrt, eps, weight_decay):
    """The same on one thread, for small parameters (ops.ADAM_SERIAL_BELOW: BatchNorm's γ and
    β, biases; 512 numbers 63 → 2 µs, 8k 66 → 31 µs; from ≈ 16k on, the parallel one wins:
    131k 130 vs 485 µs, the square root and division per number being the work)."""
    for i in range(param.size):
        _adam_element(i, param, grad, exp_avg, exp_avg_sq, beta1, beta2, step_size,
                      bias_correction2_sqrt, eps, weight_decay)


@njit(cache=True, inline="always")
def _im2col_channel(c, x, kh, kw, sh, sw, ph, pw, Ho, Wo, out):
    """out[c, i, j, oh, ow, :] = x[c, oh·sh + i − ph, ow·sw + j − pw, :] (0 outside x), for
    channel c, its columns written in memory order; the batch axis copied by an explicit loop
    (a slice assignment per pixel cost 1.5–2.5× more at N = 16…32)."""
    _, H, W, N = x.shape
    xc = x[c]
    for i in range(kh):
        for j in range(kw):
            for oh in range(Ho):
                h = oh * sh + i - ph
                dst = out[c, i, j, oh]
                if h < 0 or h >= H:
                    for ow in range(Wo):
                        for n in range(N):
                            dst[ow, n] = 0
                    continue
                for ow in range(Wo):
                    w = ow * sw + j - pw
                    if 0 <= w < W:
                        for n in range(N):
                            dst[ow, n] = xc[h, w, n]
                    else:
                        for n in range(N):
                            dst[ow, n] = 0


@njit(parallel=True, cache=True)
def im2col(x, kh, kw, sh, sw, ph, pw, Ho, Wo, out):
    """im2col (C, H, W, N) -> out (C, kh, kw, Ho, Wo, N), one thread per channel."""
    for c in prange(x.shape[0]):
        _im2col_channel(c, x, kh, kw, sh, sw, ph, pw, Ho, Wo, out)


@njit(cache=True)
def im2col_serial(x, kh, kw, sh, sw, ph, pw, Ho, Wo, out):
    """The same on one thread, for columns of fewer than ops.IM2COL_SERIAL_BELOW numbers
    (the copy is bound by memory; waking the second thread cost more than it gave below
    ≈ 5M numbers: 1M 271 → 106 µs, 1.6M 252 → 145, 4.2M 532 → 420; at 8.4M parallel 1005
    vs one thread 1858 µs)."""
    for c in range(x.shape[0]):
        _im2col_channel(c, x, kh, kw, sh, sw, ph, pw, Ho, Wo, out)


@njit(parallel=True, cache=True)
def gather_rows(x, h0, w0, sh, sw, out):
    """out[i, j, c, a, b, :] = x[c, h0 + a·sh + i, w0 + b·sw + j, :], 0 where the column is
    outside x — a run of rows of nn/conv_taps.py, taps first."""
    th, tw, C, nh, nw, N = out.shape
    W = x.shape[2]
    for ijc in prange(th * tw * C):
        i = ijc // (tw * C)
        j = (ijc // C) % tw
        c = ijc % C
        for a in range(nh):
            h = h0 + a * sh + i
            for b in range(nw):
                w = w0 + b * sw + j
                if 0 <= w < W:
                    out[i, j, c, a, b, :] = x[c, h, w, :]
                else:
                    out[i, j, c, a, b, :] = 0


@njit(parallel=True, cache=True)
def col2im(cols, kh, kw, sh, sw, ph, pw, out):
    """out[c, h, w, :] = Σ_{i,j,oh,ow: oh·sh + i − ph = h, ow·sw + j − pw = w} cols[c, i, j, oh, ow, :]
    — one thread per channel, adding its columns in memory order into that channel's image
    (H·W·N numbers, cache-resident): no atomics, one fixed order, deterministic. 2–4× faster
    here than a gather per output pixel (which read the columns out of order)."""
    C, _, _, Ho, Wo, N = cols.shape
    H, W = out.shape[1], out.shape[2]
    for c in prange(C):
        oc = out[c]
        for h in range(H):
            for w in range(W):
                for n in range(N):
                    oc[h, w, n] = 0
        for i in range(kh):
            for oh in range(Ho):
                h = oh * sh + i - ph
                if h < 0 or h >= H:
                    continue
                for j in range(kw):
                    src = cols[c, i, j, oh]
                    for ow in range(Wo):
                        w = ow * sw + j - pw
                        if w < 0 or w >= W:
                            continue
                        for n in range(N):
                            oc[h, w, n] += src[ow, n]
