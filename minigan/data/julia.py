"""Escape-time images of filled Julia sets of z -> z^2 + c (the fractal GAN's training data).

For an image of size x size pixels and a constant c, pixel (x, y), x, y = 1..size, starts at

    z0 = (y/size * 2.7 - 1.3) + i (x/size * 4.5 - 2.5)

and is iterated z <- z^2 + c. Its value is the first iteration i (counting from 1) after whose
update |z| >= 4, or 255 if that does not happen within 254 iterations. So values are 1..254
for escaping pixels and 255 for the (numerically) filled set; the test comes after each update,
never on z0, as in the Knet article's ``julia(x, y, width, height, c)``.

Array layout: ``images[k, x-1, y-1]`` -- axis 1 (rows) is x, the imaginary part; axis 2
(columns) is y, the real part. This matches the article's ``[julia(x, y, ...) for x = 1:h,
y = 1:w]``, whose first (row) index is x.

Arithmetic: float64, written identically in every backend so results are bit-identical:

    zr, zi = zr*zr - zi*zi + cr, 2.0*zr*zi + ci      # z^2 + c, old zr and zi on the right
    escaped = zr*zr + zi*zi >= 16.0                   # |z| >= 4 without a square root

(no fused multiply-add anywhere: numba without fastmath, CUDA compiled with --fmad=false).
Testing |z|^2 >= 16 instead of the article's abs(z) >= 4 (a hypot) can differ only when |z|
lands within rounding error of 4.
The start points z0 are computed once on the host with NumPy and shared by all backends.

The constants c (see ``julia_c_values``) follow the article, c = r exp(i (u/10 + k pi/14)),
u ~ U[0, 1), r = 1.2. The article's code used the total image count for k, so all its images
share nearly one c (a 0.1-radian arc): that is ``variant="article"``. The default
``variant="varied"`` uses k = the image's index, so consecutive images sweep 28 directions
around the circle, and draws r ~ U[0.6, 1.2), which reaches into the Mandelbrot set so that
connected Julia sets with filled interiors (value 255) appear besides the dust-like ones.
"""
import math
import sys

import numpy as np

from .images import save_grayscale_pngs, to_uint8

__all__ = ["julia_images", "julia_c_values", "julia_axes", "scale_julia",
           "render_heatmap_grid", "save_julia_pngs", "MAX_ITER", "INTERIOR", "BACKENDS"]

MAX_ITER = 254       # iterations at most
INTERIOR = 255       # value of pixels that never escape
BACKENDS = ("numba", "numpy", "numpy-compact", "cupy", "python")


# ----------------------------------------------------------------------------- parameters
def julia_axes(size):
    """Start points as float64 vectors: (zr0 per column y, zi0 per row x), y, x = 1..size."""
    k = np.arange(1, size + 1, dtype=np.float64)
    zr0 = (k / size) * 2.7 - 1.3
    zi0 = (k / size) * 4.5 - 2.5
    return zr0, zi0


def julia_c_values(n, seed=None, variant="varied", radius=None):
    """n constants c = r exp(i (u/10 + k pi/14)), u ~ U[0, 1), complex128 of shape (n,).

    variant="article": k = n for every image (the article's code; all c nearly equal), r = 1.2.
    variant="varied" (default): k = 0, 1, ..., n-1, the image's index; r ~ U[0.6, 1.2).
    radius: overrides r: a float, or a (low, high) pair for r ~ U[low, high).
    seed: None, an int or a numpy Generator.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    u = rng.random(n)
    if variant == "article":
        k = np.full(n, float(n))
    elif variant == "varied":
        k = np.arange(n, dtype=np.float64)
    else:
        raise ValueError(f"variant must be 'varied' or 'article', got {variant!r}")
    if radius is None:
        radius = 1.2 if variant == "article" else (0.6, 1.2)
    if np.ndim(radius) == 0:
        r = np.full(n, float(radius))
    else:
        low, high = radius
        r = rng.uniform(low, high, n)
    return r * np.exp(1j * (u / 10 + (k / 14) * np.pi))


# ----------------------------------------------------------------------------- backends
def _julia_numpy(zr0, zi0, cr, ci):
    """Reference: the plain vectorised loop. Every iteration updates the whole (n, size, size)
    array, freezing pixels that have escaped; it stops when no pixel is left iterating."""
    n, size = len(cr), len(zr0)
    shape = (n, size, size)
    zr = np.broadcast_to(zr0[None, None, :], shape).copy()  # real part varies along y
    zi = np.broadcast_to(zi0[None, :, None], shape).copy()  # imaginary part along x
    c_r, c_i = cr[:, None, None], ci[:, None, None]
    out = np.full(shape, INTERIOR, dtype=np.float32)
    alive = np.ones(shape, dtype=bool)
    for i in range(1, MAX_ITER + 1):
        new_zr, new_zi = zr * zr - zi * zi + c_r, 2.0 * zr * zi + c_i
        zr, zi = np.where(alive, new_zr, zr), np.where(alive, new_zi, zi)
        escaped = alive & (zr * zr + zi * zi >= 16.0)
        out[escaped] = i
        alive &= ~escaped
        if not alive.any():
            break
    return out


def _julia_numpy_compact(zr0, zi0, cr, ci):
    """Faster NumPy: iterates only the pixels that have not escaped yet (compacting the
    arrays every iteration), so its work is proportional to the iterations really needed."""
    n, size = len(cr), len(zr0)
    shape = (n, size, size)
    zr = np.broadcast_to(zr0[None, None, :], shape).ravel()  # real part varies along y
    zi = np.broadcast_to(zi0[None, :, None], shape).ravel()  # imaginary part along x
    c_r = np.repeat(cr, size * size)
    c_i = np.repeat(ci, size * size)
    out = np.full(n * size * size, INTERIOR, dtype=np.float32)
    alive = np.arange(n * size * size)  # flat indices of pixels still iterating
    for i in range(1, MAX_ITER + 1):
        zr, zi = zr * zr - zi * zi + c_r, 2.0 * zr * zi + c_i
        escaped = zr * zr + zi * zi >= 16.0
        out[alive[escaped]] = i
        keep = ~escaped
        alive, zr, zi, c_r, c_i = alive[keep], zr[keep], zi[keep], c_r[keep], c_i[keep]
        if alive.size == 0:
            break
    return out.reshape(shape)


def _julia_python(zr0, zi0, cr, ci):
    """Pure-Python loops (for the benchmark): same arithmetic on Python floats (float64)."""
    n, size = len(cr), len(zr0)
    zr0, zi0 = zr0.tolist(), zi0.tolist()
    values = []
    for k in range(n):
        c_r, c_i = float(cr[k]), float(ci[k])
        for x in range(size):
            for y in range(size):
                zr, zi = zr0[y], zi0[x]
                count = INTERIOR
                for i in range(1, MAX_ITER + 1):
                    zr, zi = zr * zr - zi * zi + c_r, 2.0 * zr * zi + c_i
                    if zr * zr + zi * zi >= 16.0:
                        count = i
                        break
                values.append(count)
    return np.array(values, dtype=np.float32).reshape(n, size, size)


_NUMBA_KERNEL = None
_FEW_LANES = 8  # when at most this many pixels of a row still iterate, finish them one by one


def _build_numba_kernel():
    """Compile (or load from numba's on-disk cache) the parallel escape-time kernel.

    Parallel over images (prange). Inside an image, the pixels of one row advance in
    lockstep: ``row_step`` does one iteration for the whole row in a branch-free loop that
    LLVM turns into SIMD code. A pixel's count is fixed at its first escape; lanes that already
    escaped keep computing (their values are ignored). Once at most ``_FEW_LANES`` pixels of
    the row are still iterating, ``finish_pixel`` takes them one at a time from where they are,
    so a few slow pixels do not hold the whole row. Per pixel the operations are exactly those
    of the NumPy reference, so the counts are bit-identical.
    """
    from ..kernels.threads import configure_numba_threads
    numba = configure_numba_threads()  # imported here: a hard dependency, but slow to import

    @numba.njit(cache=True)
    def row_step(zr, zi, count, c_r, c_i, i):
        """One iteration z <- z^2 + c for every lane; returns how many lanes are still in."""
        still_in = 0
        for j in range(zr.shape[0]):
            r, m = zr[j], zi[j]
            new_r = r * r - m * m + c_r
            new_i = 2.0 * r * m + c_i
            zr[j], zi[j] = new_r, new_i
            escapes_now = (new_r * new_r + new_i * new_i >= 16.0) & (count[j] == 255.0)
            value = i if escapes_now else count[j]
            count[j] = value
            still_in += value == 255.0
        return still_in

    @numba.njit(cache=True)
    def finish_pixel(zr, zi, c_r, c_i, first):
        """Iterations first..MAX_ITER of one pixel; its count (255 if it never escapes)."""
        for i in range(first, 255):
            zr, zi = zr * zr - zi * zi + c_r, 2.0 * zr * zi + c_i
            if zr * zr + zi * zi >= 16.0:
                return np.float64(i)
        return 255.0

    @numba.njit(parallel=True, cache=True)
    def julia_kernel(zr0, zi0, cr, ci, out):
        n, size = cr.shape[0], zr0.shape[0]
        for k in numba.prange(n):  # images are spread over the cores
            c_r, c_i = cr[k], ci[k]
            zr, zi, count = np.empty(size), np.empty(size), np.empty(size)
            for x in range(size):
                zr[:] = zr0  # the row's start points: real part varies along y
                zi[:] = zi0[x]
                count[:] = 255.0  # INTERIOR until a lane escapes
                i, still_in = 1, size
                while i <= 254 and still_in > _FEW_LANES:  # lockstep, iterations 1..MAX_ITER
                    still_in = row_step(zr, zi, count, c_r, c_i, np.float64(i))
                    i += 1
                if still_in > 0:  # the stragglers, one by one, from iteration i on
                    for j in range(size):
                        if count[j] == 255.0:
                            count[j] = finish_pixel(zr[j], zi[j], c_r, c_i, i)
                out[k, x, :] = count

    return julia_kernel


def _julia_numba(zr0, zi0, cr, ci):
    global _NUMBA_KERNEL
    if _NUMBA_KERNEL is None:
        _NUMBA_KERNEL = _build_numba_kernel()
    out = np.empty((len(cr), len(zr0), len(zr0)), dtype=np.float32)
    _NUMBA_KERNEL(zr0, zi0, cr, ci, out)
    return out


_CUDA_SOURCE = r"""
extern "C" __global__
void julia_escape(const double* zr0, const double* zi0, const double* cr, const double* ci,
                  const long long n, const int size, float* out)
{   // one thread per pixel; out is (n, size, size), x = row (imaginary), y = column (real)
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long per_image = (long long)size * size;
    if (idx >= n * per_image) return;
    long long k = idx / per_image;
    int rem = (int)(idx - k * per_image);
    int x = rem / size, y = rem % size;
    double zr = zr0[y], zi = zi0[x];
    const double c_r = cr[k], c_i = ci[k];
    int count = 255;
    for (int i = 1; i <= 254; ++i) {
        double new_zr = zr * zr - zi * zi + c_r;
        zi = 2.0 * zr * zi + c_i;
        zr = new_zr;
        if (zr * zr + zi * zi >= 16.0) { count = i; break; }
    }
    out[idx] = (float)count;
}
"""
_CUDA_KERNEL = None


def _julia_cupy(zr0, zi0, cr, ci):
    """GPU path: returns a cupy.ndarray. Compiled with --fmad=false to match the CPU bits."""
    global _CUDA_KERNEL
    try:
        import cupy as cp
    except ImportError as e:
        raise RuntimeError("backend='cupy' needs CuPy (pip install cupy-cuda12x) and a CUDA "
                           f"GPU: {e}") from None
    if _CUDA_KERNEL is None:
        _CUDA_KERNEL = cp.RawKernel(_CUDA_SOURCE, "julia_escape", options=("--fmad=false",))
    n, size = len(cr), len(zr0)
    out = cp.empty((n, size, size), dtype=cp.float32)
    total = n * size * size
    if total:
        threads = 256
        blocks = (total + threads - 1) // threads
        args = (cp.asarray(zr0), cp.asarray(zi0), cp.asarray(cr), cp.asarray(ci),
                np.int64(n), np.int32(size), out)
        _CUDA_KERNEL((blocks,), (threads,), args)
    return out


_BACKEND_FUNCS = {"numba": _julia_numba, "numpy": _julia_numpy, "numpy-compact": _julia_numpy_compact,
                  "cupy": _julia_cupy, "python": _julia_python}


def julia_images(n=None, size=58, c=None, seed=None, variant="varied", radius=None,
                 backend="numba"):
    """Escape-time images: float32 (n, size, size) with values 1..255 (see module docstring).

    Give either ``n`` (random constants from ``julia_c_values(n, seed, variant, radius)``) or
    ``c`` (a complex scalar or array of constants, one image each). ``backend`` is one of
    "numba" (default, parallel CPU), "numpy" (the plain vectorised reference),
    "numpy-compact" (NumPy iterating only live pixels), "cupy" (GPU; returns a cupy.ndarray)
    or "python" (slow loops); all give bit-identical values.
    """
    if backend not in _BACKEND_FUNCS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    if c is None:
        if n is None:
            raise ValueError("give n (number of random images) or c (their constants)")
        c = julia_c_values(n, seed=seed, variant=variant, radius=radius)
    else:
        cupy = sys.modules.get("cupy")
        if cupy is not None and isinstance(c, cupy.ndarray):
            c = cupy.asnumpy(c)
        c = np.atleast_1d(np.asarray(c, dtype=np.complex128)).ravel()
        if n is not None and n != len(c):
            raise ValueError(f"n={n} but {len(c)} constants c were given")
    cr = np.ascontiguousarray(c.real, dtype=np.float64)
    ci = np.ascontiguousarray(c.imag, dtype=np.float64)
    zr0, zi0 = julia_axes(size)
    return _BACKEND_FUNCS[backend](zr0, zi0, cr, ci)


# ----------------------------------------------------------------------------- scaling, output
def scale_julia(counts, mode="linear", value_range=(-1.0, 1.0)):
    """Map iteration counts (0..255) to float32 in ``value_range``.

    mode="linear": t = counts / 255          (the plain map; [-1, 1] gives counts/255*2 - 1)
    mode="log":    t = log1p(counts) / log1p(255)   (spreads the many small counts apart)
    result = low + t * (high - low). Works on NumPy and CuPy arrays.
    """
    counts = counts.astype(np.float32)
    if mode == "linear":
        t = counts / np.float32(INTERIOR)
    elif mode == "log":
        t = np.log1p(counts) / np.float32(math.log1p(INTERIOR))
    else:
        raise ValueError(f"mode must be 'linear' or 'log', got {mode!r}")
    low, high = value_range
    return (np.float32(low) + t * np.float32(high - low)).astype(np.float32)


def _to_numpy(a):
    return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)


def render_heatmap_grid(images, path, nrow=None, cmap="inferno", vmin=None, vmax=None,
                        scale=4, pad=2):
    """Write a grid of images as one colour PNG through a matplotlib colormap.

    images: (N, H, W) or (N, 1, H, W), NumPy or CuPy. nrow: images per row (as in
    torchvision's make_grid; default ceil(sqrt(N))). vmin/vmax: colour limits (default: the
    data's min and max). Each pixel becomes a scale x scale block; images are separated by
    ``pad`` black pixels. No pyplot and no GUI backend are involved. Returns ``path``.
    """
    import matplotlib  # imported here: only rendering needs it
    from PIL import Image

    imgs = _to_numpy(images).astype(np.float64)
    if imgs.ndim == 4 and imgs.shape[1] == 1:
        imgs = imgs[:, 0]
    if imgs.ndim != 3 or len(imgs) == 0:
        raise ValueError(f"expected images of shape (N, H, W) or (N, 1, H, W), got "
                         f"{imgs.shape}")
    n, h, w = imgs.shape
    ncol = nrow or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncol)
    grid = np.full((nrows * (h + pad) + pad, ncol * (w + pad) + pad), np.nan)
    for k in range(n):
        r, col = divmod(k, ncol)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[top:top + h, left:left + w] = imgs[k]
    lo = np.nanmin(grid) if vmin is None else vmin
    hi = np.nanmax(grid) if vmax is None else vmax
    normed = np.ma.masked_invalid((grid - lo) / (hi - lo if hi > lo else 1.0))
    colormap = matplotlib.colormaps[cmap].with_extremes(bad="black")
    rgb = colormap(normed, bytes=True)[..., :3]
    rgb = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
    Image.fromarray(np.ascontiguousarray(rgb)).save(path)
    return path


def julia_pixels(n=None, size=58, c=None, seed=None, variant="varied", radius=None, mode="log",
                 backend="numba"):
    """``n`` Julia images as uint8 (n, size, size): the pixels :func:`save_julia_pngs` writes."""
    counts = julia_images(n=n, size=size, c=c, seed=seed,
                          variant=variant, radius=radius, backend=backend)
    return to_uint8(_to_numpy(scale_julia(counts, mode, (0.0, 1.0))), value_range=(0.0, 1.0))


def save_julia_pngs(folder, n=None, size=58, c=None, seed=None, variant="varied", radius=None,
                    mode="log", backend="numba", prefix="julia"):
    """Compute ``n`` Julia images and write them as 8-bit grayscale PNGs
    ``folder/{prefix}_{i:05d}.png`` (pixel = scale_julia(counts, mode, (0, 1)) * 255, rounded;
    mode="linear" stores the counts themselves). Returns the list of paths."""
    pixels = julia_pixels(n=n, size=size, c=c, seed=seed, variant=variant, radius=radius,
                          mode=mode, backend=backend)
    return save_grayscale_pngs(pixels, folder, prefix=prefix)
