"""Philox4x32-10: the counter-based random generator minigan draws from on the GPU.

A counter-based generator has no hidden state to carry from one number to the next: block
number c (a 64-bit counter) and a 64-bit key, mixed by ten rounds of multiplications and xors,
give four 32-bit words that look independent of every other block's (Salmon et al. 2011,
"Parallel random numbers: as easy as 1, 2, 3"; PyTorch's and cuRAND's GPU generators are the
same algorithm). So a GPU thread can compute its own numbers directly, and the generator's
whole state is two numbers — the key and the next unused counter — that fit in a checkpoint as
they are. An interrupted and resumed run therefore draws exactly the numbers the uninterrupted
run drew (CuPy's own generators keep megabytes of per-thread state on the device instead).

One round, with the counter as four 32-bit words (c0, c1, c2, c3) and the key (k0, k1):

    hi0, lo0 = the high and low halves of the 64-bit product 0xD2511F53 · c0
    hi1, lo1 = the high and low halves of the 64-bit product 0xCD9E8D57 · c2
    (c0, c1, c2, c3) ← (hi1 ⊕ c1 ⊕ k0,  lo1,  hi0 ⊕ c3 ⊕ k1,  lo0)
    (k0, k1) ← (k0 + 0x9E3779B9, k1 + 0xBB67AE85)     (mod 2³²; the "Weyl" key schedule)

From words to numbers (the GPU kernels in kernels/gpu.py do the same arithmetic, and a test
checks that they agree bit for bit with this file):

    float32 uniform in [0, 1):  (w >> 8) · 2⁻²⁴                 value i: word i mod 4 of block i // 4
    float64 uniform in [0, 1):  ((a >> 5) · 2²⁶ + (b >> 6)) · 2⁻⁵³   value i: words (a, b) of block i // 2
    standard normal (Box–Muller on words w, w'):  √(−2 ln u) · cos 2πu' and · sin 2πu',
        u = (w + 1) · 2⁻³², u' = w' · 2⁻³², computed in float64  (four normals per block)

Drawing n numbers uses the blocks counter, counter + 1, ... and then moves the counter past them.
"""
import numpy as np

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_MASK32 = np.uint64(0xFFFFFFFF)


def philox4x32(counter, key):
    """Philox4x32-10 of the 64-bit block numbers ``counter`` (an array) under ``key`` (k0, k1):
    returns four uint32 arrays, the words 0..3 of each block. NumPy only (the reference)."""
    c = np.asarray(counter, dtype=np.uint64)
    c0, c1 = c & _MASK32, c >> np.uint64(32)
    c2 = c3 = np.zeros_like(c)
    k0, k1 = int(key[0]) & 0xFFFFFFFF, int(key[1]) & 0xFFFFFFFF
    for _ in range(10):
        p0, p1 = _M0 * c0, _M1 * c2
        hi0, lo0, hi1, lo1 = p0 >> np.uint64(32), p0 & _MASK32, p1 >> np.uint64(32), p1 & _MASK32
        c0, c1, c2, c3 = hi1 ^ c1 ^ np.uint64(k0), lo1, hi0 ^ c3 ^ np.uint64(k1), lo0
        k0, k1 = (k0 + _W0) & 0xFFFFFFFF, (k1 + _W1) & 0xFFFFFFFF
    return tuple(w.astype(np.uint32) for w in (c0, c1, c2, c3))


def _words(n, counter, key, per_block):
    """The first n·(4/per_block) words of the blocks starting at ``counter``, in draw order:
    shape (n_values, 4 // per_block)."""
    blocks = -(-n // per_block)
    w = np.stack(philox4x32(np.arange(blocks, dtype=np.uint64) + np.uint64(counter), key), axis=1)
    return w.reshape(blocks * per_block, 4 // per_block)[:n]


def uniform(n, counter, key, dtype=np.float32):
    """n uniform numbers in [0, 1) from the blocks starting at ``counter`` (NumPy reference)."""
    if np.dtype(dtype) == np.float32:
        w = _words(n, counter, key, 4)[:, 0]
        return (w >> np.uint32(8)).astype(np.float32) * np.float32(2.0 ** -24)
    w = _words(n, counter, key, 2).astype(np.uint64)
    a, b = w[:, 0] >> np.uint64(5), w[:, 1] >> np.uint64(6)
    return ((a * np.uint64(1 << 26) + b).astype(np.float64) * 2.0 ** -53).astype(dtype)


def normal(n, counter, key, dtype=np.float32):
    """n standard normal numbers from the blocks starting at ``counter`` (NumPy reference)."""
    w = _words(-(-n // 2), counter, key, 2).astype(np.float64)       # pairs (w, w')
    r = np.sqrt(-2.0 * np.log((w[:, 0] + 1.0) * 2.0 ** -32))
    theta = 2.0 * np.pi * (w[:, 1] * 2.0 ** -32)
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1).reshape(-1)[:n].astype(dtype)


def blocks_used(n, dtype, kind="uniform"):
    """How many counter values a draw of n numbers consumes."""
    per_block = 4 if kind == "uniform" and np.dtype(dtype) == np.float32 else 2
    if kind == "normal":
        return -(-n // 4)
    return -(-n // per_block)


def key_from_seed(seed):
    """A 64-bit key (two 32-bit words) from any seed NumPy's SeedSequence accepts."""
    k0, k1 = np.random.SeedSequence(seed).generate_state(2, np.uint32)
    return int(k0), int(k1)


class PhiloxGenerator:
    """A Philox4x32-10 generator producing arrays on one device ('cpu' or 'cuda').

    Offers the two draws minigan needs — ``random`` (uniform [0, 1)) and ``standard_normal`` —
    with NumPy's Generator signatures. On 'cpu' the numbers come from the NumPy reference
    above; on 'cuda' from ``fill(kind, shape, dtype, counter, key)``, which the backend hands
    in (a CUDA kernel that makes them on the GPU: nothing is copied from the host); both give
    the same numbers for the same key and counter. ``state`` / ``state = ...`` read and set
    {"key": [k0, k1], "counter": c}, which is all there is to save.
    """

    def __init__(self, seed=None, device="cuda", fill=None):
        self.device, self.fill = device, fill
        self.key = key_from_seed(seed)
        self.counter = 0

    @property
    def state(self):
        return {"algorithm": "philox4x32-10", "key": list(self.key), "counter": int(self.counter)}

    @state.setter
    def state(self, value):
        if value.get("algorithm", "philox4x32-10") != "philox4x32-10":
            raise ValueError(f"PhiloxGenerator: cannot restore a {value.get('algorithm')!r} state")
        key, counter = value["key"], int(value["counter"])
        if len(key) != 2 or counter < 0:
            raise ValueError(f"PhiloxGenerator: invalid state {value!r}")
        self.key, self.counter = (int(key[0]), int(key[1])), counter

    def _draw(self, size, dtype, kind):
        shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size or ())
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"PhiloxGenerator: dtype must be float32 or float64, got {dtype}")
        n = int(np.prod(shape, dtype=np.int64))
        counter = self.counter
        self.counter += blocks_used(n, dtype, kind)
        if self.device != "cpu":
            if self.fill is None:
                raise ValueError(f"PhiloxGenerator: device {self.device!r} needs a fill function")
            return self.fill(kind, shape, dtype, counter, self.key)
        return (uniform if kind == "uniform" else normal)(n, counter, self.key, dtype).reshape(shape)

    def random(self, size=None, dtype=np.float32):
        """Uniform numbers in [0, 1) of shape ``size``."""
        return self._draw(size, dtype, "uniform")

    def standard_normal(self, size=None, dtype=np.float32):
        """Standard normal numbers of shape ``size``."""
        return self._draw(size, dtype, "normal")
