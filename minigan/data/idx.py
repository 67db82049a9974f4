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
decompressed on the fly.
"""
import gzip
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


class IDXFormatError(ValueError):
    """An IDX file is truncated, corrupt or not IDX at all; the message names the file."""


def _read_bytes(path):
    """The file's decompressed contents (gzip detected by suffix or magic)."""
    with open(path, "rb") as f:
        raw = f.read()
    if not (str(path).endswith(".gz") or raw[:2] == _GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise IDXFormatError(
            f"{path}: truncated gzip file (the compressed stream ends early; "
            f"{len(raw)} bytes on disk)") from None
    except (gzip.BadGzipFile, zlib.error, OSError) as e:
        raise IDXFormatError(f"{path}: corrupt gzip data ({e})") from None


def read_idx(path):
    """Read an IDX file (plain or gzip) into a native-endian NumPy array.

    Raises IDXFormatError naming the file and the expected vs actual value when the magic
    number, the dtype code, the dimension count or the length do not add up.
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    n = len(data)
    if n < 4:
        raise IDXFormatError(f"{path}: too short for an IDX header: expected at least 4 bytes, "
                             f"got {n}")
    if data[0] != 0 or data[1] != 0:
        raise IDXFormatError(f"{path}: bad IDX magic number: expected first two bytes 00 00, "
                             f"got {data[0]:02x} {data[1]:02x} (not an IDX file?)")
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise IDXFormatError(f"{path}: unknown IDX dtype code: expected one of {known}, "
                             f"got 0x{code:02X}")
    if not 1 <= ndim <= _MAX_NDIM:
        raise IDXFormatError(f"{path}: bad IDX dimension count: expected 1..{_MAX_NDIM}, "
                             f"got {ndim}")
    header = 4 + 4 * ndim
    if n < header:
        raise IDXFormatError(f"{path}: truncated IDX header: expected {header} bytes for "
                             f"{ndim} dimensions, got {n}")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if n != expected:
        what = "truncated" if n < expected else "trailing bytes after the data"
        raise IDXFormatError(
            f"{path}: {what}: expected {expected} bytes ({header} header + data of shape "
            f"{shape} {dtype.name}), got {n}")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))  # native byte order, writable copy


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
