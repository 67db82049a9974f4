"""The IDX file format (MNIST, Fashion-MNIST): a reader that checks everything and a writer.

Layout of an IDX file (all integers big-endian)::

    bytes 0-1   0x00 0x00            magic, part 1
    byte  2     dtype code           0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                                     0x0D float32, 0x0E float64
    byte  3     ndim                 number of dimensions (1 for labels, 3 for images)
    then        ndim x uint32        the sizes, outermost first
    then        prod(sizes) items    the data, C order, big-endian

So a file must be exactly ``4 + 4*ndim + prod(sizes) * itemsize`` bytes long once
decompressed. Files ending in ``.gz`` (or starting with the gzip magic ``1f 8b``) are
decompressed on the fly, in chunks: the header is checked before any data are read, and
nothing past the size it declares is ever inflated. Sizes are Python integers (no int64 wrap).
"""
import gzip
import math
import os
import zlib

import numpy as np


__all__ = ["IDXFormatError", "read_idx", "write_idx", "IDX_DTYPES"]

# dtype code -> big-endian numpy dtype
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_KIND = {(d.kind, d.itemsize): code for code, d in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_MAX_NDIM = 16
_CHUNK = 1 << 24                   # bytes read (or inflated) per call


class IDXFormatError(ValueError):
    """An IDX file is truncated, corrupt or not IDX at all; the message names the file."""


def _open(path):
    """A binary stream of the file's decompressed contents (gzip detected by suffix or magic)
    and its size on disk; nothing is read beyond the first two bytes."""
    f = open(path, "rb")
    is_gzip = path.endswith(".gz") or f.read(2) == _GZIP_MAGIC
    f.seek(0)
    size = os.fstat(f.fileno()).st_size
    return (gzip.GzipFile(fileobj=f, mode="rb") if is_gzip else f), f, is_gzip, size


def _read_into(path, stream, buffer, is_gzip, on_disk):
    """Fill ``buffer`` (a bytearray or a contiguous array) from ``stream``; the number of bytes read."""
    flat = buffer if isinstance(buffer, bytearray) else buffer.reshape(-1).view(np.uint8)
    view, got = memoryview(flat), 0
    try:
        while got < len(view):
            n = stream.readinto(view[got:got + _CHUNK])
            if not n:
                break
            got += n
    except EOFError:
        raise IDXFormatError(f"{path}: truncated gzip file (the compressed stream ends early; "
                             f"{on_disk} bytes on disk)") from None
    except (gzip.BadGzipFile, zlib.error, OSError) as e:
        if not is_gzip:
            raise
        raise IDXFormatError(f"{path}: corrupt gzip data ({e})") from None
    return got


def _physical_memory():
    """Bytes of RAM of this machine (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _declared_size(path, shape, dtype, header):
    """The file's size (header + data) that the header declares, in Python integers (no
    wrap-around), refused when the data alone would not fit in this machine's memory."""
    nbytes = math.prod(shape) * dtype.itemsize
    total = _physical_memory()
    if total and nbytes > total:
        raise IDXFormatError(f"{path}: the header declares data of shape {shape} {dtype.name}, "
                             f"{nbytes:,} bytes: more than this machine's {total:,} bytes of "
                             f"memory (a damaged or hostile file?)")
    return header + nbytes


def read_idx(path, expect=None):
    """Read an IDX file (plain or gzip) into a native-endian NumPy array.

    ``expect``: optional ``fn(shape, dtype)`` called once the header is read, before any data;
    it returns None or what is wrong (e.g. MNIST's images must be uint8 (N, 28, 28)), and the
    file is then refused without reading its data.

    The header is read and checked first; the data are then read in chunks into an array of
    the size the header declares, and never more than one byte past it (so a small gzip that
    inflates to gigabytes, or a huge file with a wrong header, costs no memory). Raises
    IDXFormatError naming the file and the expected vs actual value when the magic number,
    the dtype code, the dimension count or the length do not add up.
    """
    path = os.fspath(path)
    stream, raw, is_gzip, on_disk = _open(path)
    with raw, stream:
        head = bytearray(4)
        n = _read_into(path, stream, head, is_gzip, on_disk)
        if n < 4:
            raise IDXFormatError(f"{path}: too short for an IDX header: expected at least 4 "
                                 f"bytes, got {n}")
        if head[0] != 0 or head[1] != 0:
            raise IDXFormatError(f"{path}: bad IDX magic number: expected first two bytes 00 00, "
                                 f"got {head[0]:02x} {head[1]:02x} (not an IDX file?)")
        code, ndim = head[2], head[3]
        if code not in IDX_DTYPES:
            known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
            raise IDXFormatError(f"{path}: unknown IDX dtype code: expected one of {known}, "
                                 f"got 0x{code:02X}")
        if not 1 <= ndim <= _MAX_NDIM:
            raise IDXFormatError(f"{path}: bad IDX dimension count: expected 1..{_MAX_NDIM}, "
                                 f"got {ndim}")
        header = 4 + 4 * ndim
        sizes = bytearray(4 * ndim)
        n = 4 + _read_into(path, stream, sizes, is_gzip, on_disk)
        if n < header:
            raise IDXFormatError(f"{path}: truncated IDX header: expected {header} bytes for "
                                 f"{ndim} dimensions, got {n}")
        shape = tuple(int.from_bytes(sizes[i:i + 4], "big") for i in range(0, 4 * ndim, 4))
        dtype = IDX_DTYPES[code]
        problem = expect(shape, dtype.newbyteorder("=")) if expect is not None else None
        if problem:
            raise IDXFormatError(f"{path}: {problem}")
        expected = _declared_size(path, shape, dtype, header)
        if not is_gzip and on_disk != expected:           # a plain file: its size says it all
            n = on_disk
        else:
            arr = np.empty(shape, dtype=dtype)
            n = header + _read_into(path, stream, arr, is_gzip, on_disk)
            n += _read_into(path, stream, bytearray(1), is_gzip, on_disk) if n == expected else 0
    if n != expected:
        what = "truncated" if n < expected else "trailing bytes after the data"
        got = f"{n}" if n < expected or not is_gzip else f"more than {expected} once decompressed"
        raise IDXFormatError(
            f"{path}: {what}: expected {expected} bytes ({header} header + data of shape "
            f"{shape} {dtype.name}), got {got}")
    if dtype.byteorder not in "=|" and dtype.itemsize > 1:
        arr = arr.byteswap(inplace=True).view(dtype.newbyteorder("="))   # native, no copy
    return arr.view(dtype.newbyteorder("=")) if dtype.itemsize == 1 else arr


def write_idx(path, array, compress=None):
    """Write ``array`` as an IDX file; gzip it when ``compress`` is True or, if None, when
    ``path`` ends in ``.gz``. Supported dtypes: uint8, int8, int16, int32, float32, float64.
    """
    path = os.fspath(path)
    arr = np.asarray(array)
    if arr.ndim < 1 or arr.ndim > _MAX_NDIM:
        raise ValueError(f"{path}: IDX needs 1..{_MAX_NDIM} dimensions, got array of shape "
                         f"{arr.shape}")
    code = _CODE_OF_KIND.get((arr.dtype.kind, arr.dtype.itemsize))
    if code is None:
        raise ValueError(f"{path}: dtype {arr.dtype} has no IDX code (use uint8, int8, int16, "
                         f"int32, float32 or float64)")
    if any(s >= 2 ** 32 for s in arr.shape):
        raise ValueError(f"{path}: dimension sizes must fit in uint32, got {arr.shape}")
    payload = (bytes([0, 0, code, arr.ndim])
               + np.asarray(arr.shape, dtype=">u4").tobytes()
               + np.ascontiguousarray(arr, dtype=IDX_DTYPES[code]).tobytes())
    if compress is None:
        compress = path.endswith(".gz")
    if compress:
        payload = gzip.compress(payload, mtime=0)
    with open(path, "wb") as f:
        f.write(payload)
    return path
