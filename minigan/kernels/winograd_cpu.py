"""numba kernels of winograd.py: its two tile transforms, the weights' transform, and the
adjoint (transpose) of each, channel by channel.

Notation of winograd.py: a tile (tu, tv) of the space-to-depth input X has 3×3 positions
X[(c, a, b), 2tu + r, 2tv + s] = x[c, 4tu + 2r + a − 1, 4tv + 2s + b − 1] (0 outside x), and
gives 2×2 outputs y[o, 2tu + i, 2tv + j]. One axis of each transform, on three (or two) numbers:

    Bᵀ d = (d0 − d1, d1, d2 − d1)        B v = (v0, v1 − v0 − v2, v2)        (input, adjoint)
    Aᵀ m = (m0 + m1, m1 + m2)            A e = (e0, e0 + e1, e1)             (output, adjoint)
    G g  = (g0, g0 + g1, g1)             Gᵀ u = (u0 + u1, u1 + u2)           (weights, adjoint)

Each kernel applies its 1-D transform along rows, then along columns, with the batch axis
innermost (the loops over n vectorise). Layout of a transformed array: the nine positions
(α, β) (k = 3α + β) sit between the channel and the pixels, ``(channels, 9, L)``, so that
the nine numbers of one tile are written close together; the GEMM operand of position k is
the strided matrix ``[:, k, :columns]`` (winograd.py). L is PAD numbers longer than a row:
with the DCGAN's power-of-two sizes, rows exactly 2^k bytes apart fall in the same cache sets
and evict each other (the weights' transform of D's 256 → 512 layer took 5.0 ms so, 0.8 padded).

The kernels run on one thread. In a training step each comes right after a GEMM, whose
OpenBLAS threads spin for ≈ 0.1 s before they sleep; a parallel kernel there shared a core
with a spinning thread (the weights' transform of D's 256 → 512 layer: 5.7 ms per call in the
step in parallel, 1.4 ms on one thread), and waking numba's second thread costs ≈ 90 µs
(its workqueue pool polls). Measured over whole batch-32 steps, parallel versions of the two
largest (input_transform, input_transform_adjoint) gained nothing (247 vs 250 ms).
"""
from .threads import configure_numba_threads

numba = configure_numba_threads()
import numpy as np  # noqa: E402
from numba import njit  # noqa: E402


@njit(cache=True)
def input_transform(x, V):
    """V (4C, 9, L) of x (C, H, W, N): V[(c, a, b), k, (tu, tv, n)] = (Bᵀ d B)[α, β],
    d[r, s] = X[(c, a, b), 2tu + r, 2tv + s] = x[c, 4tu + 2r + a − 1, 4tv + 2s + b − 1]
    (0 outside)."""
    C, H, W, N = x.shape
    TH, TW = H // 4, W // 4
    xp = np.zeros((H + 2, W + 2, N), x.dtype)                     # x[c] with its padding of 1
    for c in range(C):
        xp[1:H + 1, 1:W + 1] = x[c]
        for ab in range(4):
            a, b = ab // 2, ab % 2
            Vc = V[4 * c + ab]                                    # (9, L)
            for tu in range(TH):
                h0 = 4 * tu + a                                   # padded row of d[0, :]
                for tv in range(TW):
                    w0 = 4 * tv + b                               # padded column of d[:, 0]
                    j = (tu * TW + tv) * N
                    for n in range(N):
                        d00, d01, d02 = xp[h0, w0, n], xp[h0, w0 + 2, n], xp[h0, w0 + 4, n]
                        d10, d11, d12 = xp[h0 + 2, w0, n], xp[h0 + 2, w0 + 2, n], xp[h0 + 2, w0 + 4, n]
                        d20, d21, d22 = xp[h0 + 4, w0, n], xp[h0 + 4, w0 + 2, n], xp[h0 + 4, w0 + 4, n]
                        e00, e01, e02 = d00 - d10, d01 - d11, d02 - d12              # Bᵀ on rows
                        e20, e21, e22 = d20 - d10, d21 - d11, d22 - d12
                        Vc[0, j + n] = e00 - e01                                     # then on columns
                        Vc[1, j + n] = e01
                        Vc[2, j + n] = e02 - e01
                        Vc[3, j + n] = d10 - d11
                        Vc[4, j + n] = d11
                        Vc[5, j + n] = d12 - d11
                        Vc[6, j + n] = e20 - e21
                        Vc[7, j + n] = e21
                        Vc[8, j + n] = e22 - e21


@njit(cache=True)
def input_transform_adjoint(dV, dx):
    """dx (C, H, W, N) from dV (4C, 9, L): dx[c] = Σ over tiles of B dV B added back to the
    pixels each tile came from (tiles overlap by one row and column; numbers that fall in the
    padding are dropped)."""
    C, H, W, N = dx.shape
    TH, TW = H // 4, W // 4
    acc = np.empty((H + 2, W + 2, N), dx.dtype)                   # dx[c] with its padding of 1
    for c in range(C):
        acc[...] = 0
        for ab in range(4):
            a, b = ab // 2, ab % 2
            Vc = dV[4 * c + ab]                                   # (9, L)
            for tu in range(TH):
                h0 = 4 * tu + a
                for tv in range(TW):
                    w0 = 4 * tv + b
                    j = (tu * TW + tv) * N
                    for n in range(N):
                        v00, v01, v02 = Vc[0, j + n], Vc[1, j + n], Vc[2, j + n]
                        v10, v11, v12 = Vc[3, j + n], Vc[4, j + n], Vc[5, j + n]
                        v20, v21, v22 = Vc[6, j + n], Vc[7, j + n], Vc[8, j + n]
                        m0, m1, m2 = v10 - v00 - v20, v11 - v01 - v21, v12 - v02 - v22  # B on rows: row 1
                        acc[h0, w0, n] += v00                                        # then on columns
                        acc[h0, w0 + 2, n] += v01 - v00 - v02
                        acc[h0, w0 + 4, n] += v02
                        acc[h0 + 2, w0, n] += m0
                        acc[h0 + 2, w0 + 2, n] += m1 - m0 - m2
                        acc[h0 + 2, w0 + 4, n] += m2
                        acc[h0 + 4, w0, n] += v20
                        acc[h0 + 4, w0 + 2, n] += v21 - v20 - v22
                        acc[h0 + 4, w0 + 4, n] += v22
        dx[c] = acc[1:H + 1, 1:W + 1]


@njit(cache=True)
def output_transform(M, y):
    """y (Co, 2TH, 2TW, N) from M (Co, 9, L): y[o, 2tu + i, 2tv + j, :] = (Aᵀ M A)[i, j] of
    tile (tu, tv)."""
    TH, TW, N = y.shape[1] // 2, y.shape[2] // 2, y.shape[3]
    for o in range(y.shape[0]):
        Mo = M[o]                                                 # (9, L)
        for tu in range(TH):
            for tv in range(TW):
                j = (tu * TW + tv) * N
                for n in range(N):
                    f0, f1, f2 = Mo[0, j + n] + Mo[3, j + n], Mo[1, j + n] + Mo[4, j + n], Mo[2, j + n] + Mo[5, j + n]
                    g0, g1, g2 = Mo[3, j + n] + Mo[6, j + n], Mo[4, j + n] + Mo[7, j + n], Mo[5, j + n] + Mo[8, j + n]
                    y[o, 2 * tu, 2 * tv, n] = f0 + f1                # Aᵀ on rows (f, g), then on columns
                    y[o, 2 * tu, 2 * tv + 1, n] = f1 + f2
                    y[o, 2 * tu + 1, 2 * tv, n] = g0 + g1
                    y[o, 2 * tu + 1, 2 * tv + 1, n] = g1 + g2


@njit(cache=True)
def output_transform_adjoint(dy, E):
    """E (Co, 9, L) of dy (Co, 2TH, 2TW, N): E[o, k, (tu, tv, n)] = (A e Aᵀ)[α, β], e the 2×2
    tile dy[o, 2tu:2tu + 2, 2tv:2tv + 2, n]."""
    TH, TW, N = dy.shape[1] // 2, dy.shape[2] // 2, dy.shape[3]
    for o in range(dy.shape[0]):
        Eo = E[o]                                                 # (9, L)
        for tu in range(TH):
            for tv in range(TW):
                j = (tu * TW + tv) * N
                for n in range(N):
                    e00, e01 = dy[o, 2 * tu, 2 * tv, n], dy[o, 2 * tu, 2 * tv + 1, n]
                    e10, e11 = dy[o, 2 * tu + 1, 2 * tv, n], dy[o, 2 * tu + 1, 2 * tv + 1, n]
                    s0, s1 = e00 + e10, e01 + e11                                    # A on rows: row 1
                    Eo[0, j + n] = e00                                               # then on columns
                    Eo[1, j + n] = e00 + e01
                    Eo[2, j + n] = e01
                    Eo[3, j + n] = s0
                    Eo[4, j + n] = s0 + s1
                    Eo[5, j + n] = s1
                    Eo[6, j + n] = e10
                    Eo[7, j + n] = e10 + e11
                    Eo[8, j + n] = e11


@njit(cache=True)
def weight_transform(w, U):
    """U (Co, 9, L) of w (Co, C, 4, 4): U[o, k, (c, a, b)] = (G g Gᵀ)[α, β],
    g[p, q] = w[o, c, 2p + a, 2q + b]."""
    for o in range(w.shape[0]):
        Uo = U[o]                                                 # (9, L)
        for c in range(w.shape[1]):
            for ab in range(4):
                a, b = ab // 2, ab % 2
                j = 4 * c + ab
                g00, g01 = w[o, c, a, b], w[o, c, a, 2 + b]
                g10, g11 = w[o, c, 2 + a, b], w[o, c, 2 + a, 2 + b]
                s0, s1 = g00 + g10, g01 + g11                                        # G on rows: row 1
                Uo[0, j] = g00                                                       # then on columns
                Uo[1, j] = g00 + g01
                Uo[2, j] = g01
                Uo[3, j] = s0
                Uo[4, j] = s0 + s1
                Uo[5, j] = s1
                Uo[6, j] = g10
                Uo[7, j] = g10 + g11
                Uo[8, j] = g11


@njit(cache=True)
def weight_transform_adjoint(dU, dw):
    """dw (Co, C, 4, 4) += the adjoint transform of dU (Co, 9, L):
    dw[o, c, 2p + a, 2q + b] += (Gᵀ dU G)[p, q] of dU[o, :, (c, a, b)]."""
    for o in range(dw.shape[0]):
        Uo = dU[o]                                                # (9, L)
        for c in range(dw.shape[1]):
            for ab in range(4):
                a, b = ab // 2, ab % 2
                j = 4 * c + ab
                r00, r01, r02 = Uo[0, j] + Uo[3, j], Uo[1, j] + Uo[4, j], Uo[2, j] + Uo[5, j]  # Gᵀ on rows
                r10, r11, r12 = Uo[3, j] + Uo[6, j], Uo[4, j] + Uo[7, j], Uo[5, j] + Uo[8, j]
                dw[o, c, a, b] += r00 + r01                                          # then on columns
                dw[o, c, a, 2 + b] += r01 + r02
                dw[o, c, 2 + a, b] += r10 + r11
                dw[o, c, 2 + a, 2 + b] += r11 + r12
