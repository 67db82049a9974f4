"""The DCGAN's 4×4 stride-2 convolutions with 9 multiplies where the GEMM does 16 (CPU).

Every convolution of the 64×64 DCGAN (Conv2d and ConvTranspose2d, kernel 4, stride 2,
padding 1) is the same correlation, read forwards or backwards:

    y[o, m, n] = Σ_{c, i, j} w[o, c, i, j] · x[c, 2m + i − 1, 2n + j − 1]     (x = 0 outside)

**Space to depth.** Write i = 2p + a, j = 2q + b (p, q, a, b ∈ {0, 1}) and
X[(c, a, b), u, v] = x[c, 2u + a − 1, 2v + b − 1]: the stride-2 4×4 correlation of x is a
stride-1 **2×2** correlation of X, which has 4C channels:

    y[o, m, n] = Σ_{(c,a,b), p, q} g[o, (c,a,b), p, q] · X[(c,a,b), m + p, n + q],
    g[o, (c,a,b), p, q] = w[o, c, 2p + a, 2q + b].

**Winograd F(2×2, 2×2).** Along one axis, two outputs of a two-tap correlation take three
products instead of four (d = three inputs, g = two taps):

    y0 = d0·g0 + d1·g1 = m0 + m1,     m0 = (d0 − d1)·g0
    y1 = d1·g0 + d2·g1 = m1 + m2,     m1 = d1·(g0 + g1),     m2 = (d2 − d1)·g1

that is y = Aᵀ[(G g) ⊙ (Bᵀ d)] with Bᵀ d = (d0 − d1, d1, d2 − d1), G g = (g0, g0 + g1, g1),
Aᵀ m = (m0 + m1, m1 + m2) — only additions, exact up to float rounding. In 2-D, a 2×2 block of
outputs ("tile" (tu, tv): y[o, 2tu + i, 2tv + j]) reads a 3×3 block d of X and takes 9 products
instead of 16, and the sum over channels makes each of the 9 positions (α, β) one GEMM:

    V[αβ] = (Bᵀ d B)[α, β]     (4C, tiles·N)   the input's tiles       (input_transform)
    U[αβ] = (G g Gᵀ)[α, β]     (Co, 4C)          the weights            (weight_transform)
    M[αβ] = U[αβ] @ V[αβ]      (Co, tiles·N)     9 GEMMs, 9/16 of im2col's one
    y_tile = Aᵀ M A            (Co, 2, 2)                                (output_transform)

**Gradients** are the same algebra transposed (each step is linear, so its adjoint is its
transpose); with E[αβ] = (A e Aᵀ)[α, β] for e the 2×2 tile of ∂L/∂y (output_transform_adjoint):

    ∂L/∂U[αβ] = E[αβ] @ V[αβ]ᵀ,   ∂L/∂g = Gᵀ (∂L/∂U) G       (weight_transform_adjoint)
    ∂L/∂V[αβ] = U[αβ]ᵀ @ E[αβ],   ∂L/∂d = B (∂L/∂V) Bᵀ, added back where each tile's d came
                                   from (tiles overlap by a row and a column)
                                   (input_transform_adjoint)

A ConvTranspose2d with the same weight array is this correlation's ∂L/∂x read as a forward,
so it runs the last line for its forward, the first four for ∂L/∂x, and the same ∂L/∂U.

Applies to kernel 4, stride 2, padding 1, outputs of even size (the DCGAN's 64 → 32 → 16 → 8
→ 4), on the CPU, where its GEMMs are not too thin to pay for the transforms (whole steps of
the 64×64 DCGAN, measured on this project's 2-core CPU): both channel counts ≥ MIN_CHANNELS
(with RGB's 3 channels on D's first and G's last layer too: 252 vs 241 ms at batch 32, 143 vs
132 at batch 16) and ≥ MIN_COLUMNS tiles·N (the 8×8 ↔ 4×4 layers at batch 16 have 64: their
9 GEMMs (512, 1024) @ (1024, 64) lost to im2col's one, 1–2% of the step; at batch 32, 128
columns, they win: 246 vs 251 ms). tests/test_winograd.py checks every function here against
the plain im2col path (nn/im2col.py) and PyTorch, and each transform against its adjoint.
"""
import numpy as np

from . import ops

MIN_CHANNELS = 32
MIN_COLUMNS = 128
PAD = 16      # numbers between the nine GEMM operands of a stack (winograd_cpu.py says why)


def applies(x, channels, out_channels, kernel, stride, padding, image_hw):
    """Whether a correlation over an image of ``image_hw`` with these settings runs here:
    kernel 4, stride 2, padding 1, image sides divisible by 4, enough channels and tiles·N
    (N = len(x)), CPU."""
    return (tuple(kernel) == (4, 4) and tuple(stride) == (2, 2) and tuple(padding) == (1, 1)
            and image_hw[0] % 4 == 0 and image_hw[1] % 4 == 0
            and min(channels, out_channels) >= MIN_CHANNELS
            and (image_hw[0] // 4) * (image_hw[1] // 4) * x.shape[0] >= MIN_COLUMNS and ops.winograd(x))


def stack(workspace, name, rows, cols, dtype):
    """Nine (rows, cols) GEMM operands: a (9, rows, cols) view of a reused (rows, 9, cols + PAD)
    array (the kernels' layout, winograd_cpu.py), and that array."""
    buffer = workspace.get(name, np, (rows, 9, cols + PAD), dtype)
    return buffer[:, :, :cols].transpose(1, 0, 2), buffer


def transform_weight(w, workspace, name):
    """U (9, Co, 4C) of the correlation weight w (Co, C, 4, 4) (any strides)."""
    Co, C = w.shape[:2]
    U, buffer = stack(workspace, f"{name}.U", Co, 4 * C, w.dtype)
    ops.winograd_weight(np.ascontiguousarray(w), buffer)
    return U


def transform_input(x, workspace, name):
    """V (9, 4C, tiles·N) of x (C, H, W, N)."""
    C, H, W, N = x.shape
    V, buffer = stack(workspace, f"{name}.V", 4 * C, (H // 4) * (W // 4) * N, x.dtype)
    ops.winograd_input(np.ascontiguousarray(x), buffer)
    return V


def transform_gradient(dy, workspace, name):
    """E (9, Co, tiles·N) of an output gradient (or a transposed convolution's input)
    dy (Co, Ho, Wo, N)."""
    Co, Ho, Wo, N = dy.shape
    E, buffer = stack(workspace, f"{name}.E", Co, (Ho // 2) * (Wo // 2) * N, dy.dtype)
    ops.winograd_gradient(np.ascontiguousarray(dy), buffer)
    return E


def correlate(V, U, out_hw, N, workspace, name):
    """y (Co, Ho, Wo, N) = Aᵀ (U @ V) A, tile by tile: the correlation of the input behind V."""
    Co = U.shape[1]
    M, buffer = stack(workspace, f"{name}.M", Co, V.shape[2], V.dtype)
    np.matmul(U, V, out=M)                                          # 9 GEMMs (Co, 4C) @ (4C, T·N)
    y = np.empty((Co, *out_hw, N), V.dtype)
    ops.winograd_output(buffer, y)
    return y


def correlate_adjoint(E, U, image_hw, N, workspace, name):
    """dx (C, H, W, N) = the tiles B (Uᵀ @ E) Bᵀ added back in place: the correlation's
    ∂L/∂x for the output gradient behind E (a ConvTranspose2d's forward)."""
    C = U.shape[2] // 4
    dV, buffer = stack(workspace, f"{name}.dV", 4 * C, E.shape[2], E.dtype)
    np.matmul(U.transpose(0, 2, 1), E, out=dV)                       # 9 GEMMs (4C, Co) @ (Co, T·N)
    dx = np.empty((C, *image_hw, N), E.dtype)
    ops.winograd_input_adjoint(buffer, dx)
    return dx


def weight_grad(E, V, dweight, workspace, name):
    """dweight (Co, C, 4, 4) += Gᵀ (E @ Vᵀ) G rearranged: the correlation's ∂L/∂w."""
    Co, C = dweight.shape[:2]
    dU, buffer = stack(workspace, f"{name}.dU", Co, 4 * C, E.dtype)
    np.matmul(E, V.transpose(0, 2, 1), out=dU)                      # 9 GEMMs (Co, T·N) @ (T·N, 4C)
    ops.winograd_weight_adjoint(buffer, dweight)
