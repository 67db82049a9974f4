"""Convolutions without work on padding: every multiply-add uses a pixel of the image.

im2col (im2col.py) copies a zero wherever a window overhangs the image, and the GEMM then
multiplies those zeros. For the DCGAN's 5×5 kernels on 7×7 images that is 31% of the
multiply-adds at stride 1 / padding 2 (per axis the 7 outputs see 3, 4, 5, 5, 5, 4, 3 of the 5
taps: (29/35)² = 0.69 of the work is real) and 16% at stride 2. A transposed convolution made
of GEMM + col2im multiplies the same zeros, seen from the other side. This file skips them
where that pays, still as a few large GEMMs over batch-last (C, H, W, N) arrays.

Correlation (Conv2d's forward), along one axis, with input size n, kernel k, stride s, padding p:

    y[o] = Σ_{i=0}^{k−1} K[i] · x[o·s + i − p]          (x = 0 outside [0, n))

Tap i reads inside the image exactly for i ∈ [t0(o), t1(o)) with

    t0(o) = max(0, p − o·s),      t1(o) = min(k, n + p − o·s).

Consecutive outputs with the same (t0, t1) form a *run* (:func:`axis_runs`): all interior
outputs share one run with every tap, and the border adds about ⌈p/s⌉ runs on each side. On a
run of output rows the convolution has no row padding, and is one GEMM with the kernel's rows
t0 … t1 − 1 (:func:`correlate`; columns keep their zero padding, see there why):

    X_r = im2col of the run            (th·kw·Cin, |rows|·Wo·N)   taps first, no padded rows
    Y_r = K[:, t0:t1, :, :] @ X_r      (Cout, |rows|·Wo·N)        K as (Cout, kh, kw, Cin)

Gradients, from the same runs (each GEMM is the full GEMM with its zero rows of X removed):

    ∂L/∂K[:, t0:t1] += dY_r @ X_rᵀ                          (:func:`weight_grad`)
    ∂L/∂x = the transposed correlation of dy               (:func:`transposed`, or col2im)

Transposed correlation (ConvTranspose2d's forward, Conv2d's input gradient), one axis:

    y[o] = Σ_{h, i : h·s + i − p = o} x[h] · W[i]

Split the outputs by *phase* q = (o + p) mod s (the sub-pixel decomposition). For o = m·s + q − p
only the taps i = q + s·t (t = 0 … T_q − 1, T_q = ⌈(k − q)/s⌉) meet an input, at h = m − t.
Flipping the taps, u = T_q − 1 − t, gives an ordinary stride-1 correlation of x:

    y[m·s + q − p] = Σ_{u=0}^{T_q−1} W[q + s·(T_q − 1 − u)] · x[m − (T_q − 1) + u]

that is, kernel W[q::s] reversed, stride 1, padding T_q − 1 − m0, where m0 = ⌈(p − q)/s⌉ is the
first m with o ≥ 0; the phase's outputs are the strided slice y[m0·s + q − p :: s]. In 2-D the
s_h·s_w phases tile the output: no zero insertion, no scatter-add (col2im), and each phase
again skips its own row padding by runs. Stride 1 is the single phase q = 0 (the familiar
"a stride-1 transposed conv is a conv with the flipped kernel and padding k − 1 − p").

docs/backprop.md derives the same in more words; tests/test_conv_taps.py checks every function
here against the plain im2col/col2im path (nn/im2col.py) and PyTorch.
"""
from ..arrays import get_array_module
from . import ops


def axis_runs(n_out, n_in, k, s, p):
    """Runs of outputs along one axis with the same in-image taps: a list of
    (o0, o1, t0, t1) — outputs o0 … o1 − 1 each read taps t0 … t1 − 1, all inside [0, n_in).
    An output that no tap reaches gets t0 = t1 = 0 (its value is 0)."""
    runs = []
    for o in range(n_out):
        t0, t1 = max(0, p - o * s), min(k, n_in + p - o * s)
        if t0 >= t1:
            t0 = t1 = 0
        if runs and runs[-1][1] == o and runs[-1][2:] == (t0, t1):
            runs[-1] = (runs[-1][0], o + 1, t0, t1)
        else:
            runs.append((o, o + 1, t0, t1))
    return runs


def useful_fraction(n_out, n_in, k, s, p):
    """The fraction of an axis' output × tap products that read inside the image."""
    runs = axis_runs(n_out, n_in, k, s, p)
    return sum((o1 - o0) * (t1 - t0) for o0, o1, t0, t1 in runs) / (n_out * k)


def rows_worth_splitting(n_out, n_in, k, s, p, threshold=0.85):
    """Whether :func:`correlate`'s row runs pay: they skip the row padding but cost a gather
    per run and smaller GEMMs, which measured a net loss when under 10% of the work is padding
    (the 28×28 DCGAN's stride-2 5×5 convolutions: 8.6%) and a gain at 17% (its stride-1 one).
    At 12.5% (the 64×64 DCGAN's 4×4 stride-2 convolutions between 8×8 and 4×4 maps: three runs
    of 1, 2 and 1 output rows, GEMMs of 64…128 columns at batch 16) it was a loss too: D's
    256 → 512 forward took 4.4 ms by runs and 3.1 ms as one GEMM at batch 16, forward and
    weight gradient 10.8 vs 6.3 ms (23.0 vs 20.6 at batch 64), G's 512 → 256 forward and
    backward 13.9 vs 9.6 ms."""
    return useful_fraction(n_out, n_in, k, s, p) < threshold


def phases_worth_it(c_in, c_out, useful):
    """Whether :func:`transposed` (a gather of the input per phase, ≈ c_in·useful numbers per
    output tap) beats GEMM + col2im (a column buffer of c_out numbers per output tap):
    only when the input has the fewer channels."""
    return c_in * useful < c_out


def gather(x, rows, stride, padding, kw, Wo, out):
    """im2col of the row run ``rows`` = (o0, o1, t0, t1), taps first:

        out[i, j, c, a, b, n] = x[c, (o0 + a)·sh + t0 + i − ph, b·sw + j − pw, n]   (0 outside x)

    out (th, kw, C, |rows|, Wo, N). Rows are inside x by construction; columns keep their zero
    padding (see :func:`correlate`). Taps before channels, so that the run's weights,
    W[:, t0:t1, :, :] of a (Cout, kh, kw, C) copy, are one contiguous slab."""
    oh0, oh1, ih0, ih1 = rows
    (sh, sw), (ph, pw) = stride, padding
    h0 = oh0 * sh + ih0 - ph                           # x row of out[0, :, :, 0]
    if ops.gather_rows(x, h0, -pw, sh, sw, out) is not None:
        return out                                     # numba: the same copy, in parallel
    W = x.shape[2]
    out[...] = 0
    for j in range(kw):                                # one strided slice per column tap
        b0 = max(0, -(-(pw - j) // sw))                # first b with b·sw + j − pw ≥ 0
        b1 = min(Wo, (W - 1 + pw - j) // sw + 1)       # last b + 1 with b·sw + j − pw < W
        if b0 >= b1:
            continue
        w0 = b0 * sw + j - pw
        for i in range(ih1 - ih0):
            src = x[:, h0 + i:h0 + i + sh * (oh1 - oh0 - 1) + 1:sh, w0:w0 + sw * (b1 - b0 - 1) + 1:sw, :]
            out[i, j, :, :, b0:b1, :] = src
    return out


def correlate(x, weight, stride, padding, out_hw, workspace, name, out=None):
    """out[o, oh, ow, n] = Σ_{c,i,j} weight[o, c, i, j] · x[c, oh·sh + i − ph, ow·sw + j − pw, n]
    (x = 0 outside), one GEMM per run of output rows over its in-image kernel rows only (see
    the module docstring).

    x (C, H, W, N) C-contiguous; weight (Cout, C, kh, kw) (any strides, copied once to
    (Cout, kh, kw, C)); ``out`` (Cout, Ho, Wo, N), may be a strided view (a phase of a bigger
    array), or None to only gather (a weight gradient without the input gradient).
    Returns the blocks [(row run, X_b (th·kw·C, |rows|·Wo·N))] that :func:`weight_grad`
    needs; they live in ``workspace`` under ``name``.

    Only rows are split into runs; columns keep their zero padding. Splitting both axes too
    would skip all the padding, but for 7×7 images it makes 25 small GEMMs and copies each
    sub-kernel (Σ runs × Σ runs of them, 14× the kernel for 5×5 on 7×7): measured slower on
    this project's 2-core machine than the padding it skips. Per row run the weights are a
    slab of the (Cout, kh, kw, C) copy (no copy at all) and each GEMM stays large."""
    xp = get_array_module(x)
    C, H, W, N = x.shape
    Cout, kh, kw = weight.shape[0], weight.shape[2], weight.shape[3]
    Ho, Wo = out_hw
    taps_first = None if out is None else xp.ascontiguousarray(weight.transpose(0, 2, 3, 1))
    blocks = []
    for a, rows in enumerate(axis_runs(Ho, H, kh, stride[0], padding[0])):
        oh0, oh1, ih0, ih1 = rows
        if ih0 == ih1:                                  # no tap reaches these output rows
            if out is not None:
                out[:, oh0:oh1] = 0
            continue
        shape = (ih1 - ih0, kw, C, oh1 - oh0, Wo, N)
        X_b = gather(x, rows, stride, padding, kw, Wo, workspace.get(f"{name}.{a}", xp, shape, x.dtype))
        X_b = X_b.reshape(shape[0] * kw * C, -1)                            # (th·kw·C, P)
        blocks.append((rows, X_b))
        if out is None:
            continue
        K_b = taps_first[:, ih0:ih1].reshape(Cout, -1)                      # (Cout, th·kw·C), a view
        Y_b = workspace.get(f"{name}.y{a}", xp, (Cout, X_b.shape[1]), x.dtype)
        xp.matmul(K_b, X_b, out=Y_b)                                        # (Cout, P)
        out[:, oh0:oh1] = Y_b.reshape(Cout, oh1 - oh0, Wo, N)
    return blocks


def weight_grad(g, blocks, dweight, workspace, name):
    """dweight[o, c, i, j] += Σ_{oh, ow, n} g[o, oh, ow, n] · X[(i, j, c), (oh, ow, n)] over the
    blocks of :func:`correlate` — the correlation's weight gradient for output gradient
    g (Cout, Ho, Wo, N); dweight (Cout, C, kh, kw)."""
    xp = get_array_module(g)
    Cout, C, kh, kw = dweight.shape
    dK = workspace.get(f"{name}.dK", xp, (Cout, kh, kw, C), dweight.dtype)   # taps first
    dK[...] = 0
    for (oh0, oh1, ih0, ih1), X_b in blocks:
        g_b = g[:, oh0:oh1].reshape(Cout, -1)                               # (Cout, P), a view
        dK[:, ih0:ih1] += (g_b @ X_b.T).reshape(Cout, ih1 - ih0, kw, C)
    dweight += dK.transpose(0, 3, 1, 2)


def phase(q, k, s, p, n_out):
    """Phase q of one axis of a transposed correlation: (T, m0, start, count) — taps
    i = q, q + s, … (T of them), output positions start, start + s, … (count of them), and
    m0 = ⌈(p − q)/s⌉, the index m of the first one (o = m·s + q − p)."""
    T = len(range(q, k, s))
    m0 = -((q - p) // s)                  # ceil((p − q) / s)
    start = m0 * s + q - p
    return T, m0, start, len(range(start, n_out, s))


def transposed(x, weight, stride, padding, out_hw, workspace, name):
    """y[c', oh, ow, n] = Σ_{c, h, w, i, j: h·sh + i − ph = oh, w·sw + j − pw = ow}
    x[c, h, w, n] · weight[c, c', i, j], phase by phase (see the module docstring).

    x (C, H, W, N) C-contiguous, weight (C, C', kh, kw) (ConvTranspose2d's layout); returns a
    new y (C', Ho, Wo, N)."""
    xp = get_array_module(x)
    (kh, kw), (sh, sw), (ph, pw) = weight.shape[2:], stride, padding
    Ho, Wo = out_hw
    y = xp.empty((weight.shape[1], Ho, Wo, x.shape[3]), dtype=x.dtype)
    for qh in range(sh):
        Th, mh, h0, nh = phase(qh, kh, sh, ph, Ho)
        for qw in range(sw):
            Tw, mw, w0, nw = phase(qw, kw, sw, pw, Wo)
            if nh == 0 or nw == 0:
                continue
            out = y[:, h0::sh, w0::sw]                                      # (C', nh, nw, N)
            if Th == 0 or Tw == 0:
                out[...] = 0
                continue
            # kernel W[q::s] with its taps reversed, as a correlation weight (C', C, Th, Tw)
            K = weight[:, :, qh::sh, qw::sw][:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
            correlate(x, K, (1, 1), (Th - 1 - mh, Tw - 1 - mw), (nh, nw), workspace,
                      f"{name}.{qh}.{qw}", out=out)
    return y
