"""Reading a ``.npz`` file member by member, each member's ``.npy`` header checked before its data.

``np.load`` on an ``.npz`` inflates whatever a member declares: a 1 MB file can hold a member that
inflates to 1 GiB, and every member is read even when only a few are needed. Here a member is
only read when asked for, its declared dtype must be plain numbers (or, for the one text member,
unicode), its declared size must agree with the zip's own record of the member, and a caller can
give the shape and dtype it expects: a member that declares anything else is refused before a
byte of its data is read. Errors are :class:`NpzError` naming the file and the member.
"""
import math
import zipfile

import numpy as np

__all__ = ["NpzReader", "NpzError", "MAX_TEXT_BYTES", "MAX_UNCHECKED_BYTES"]

MAX_TEXT_BYTES = 16 * 2**20       # a checkpoint's JSON part: far more than any real one
MAX_UNCHECKED_BYTES = 2**30       # a member read without a known shape (minigan's largest: ~50 MB)


class NpzError(ValueError):
    """A member that is missing, declares the wrong thing, or is damaged."""


def _header(f, where):
    """(shape, fortran order, dtype) from the ``.npy`` header at ``f``'s position."""
    try:
        version = np.lib.format.read_magic(f)
        read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read(f)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, SyntaxError, TypeError) as e:
        raise NpzError(f"{where} is not a NumPy array ({e})") from None
    return tuple(shape), bool(fortran), np.dtype(dtype)


class NpzReader:
    """``with NpzReader(path) as z:`` — ``z.names`` (the members, without ``.npy``),
    ``z.header(name)`` (shape, dtype) and ``z.read(name, shape=None, dtype=None)``."""

    def __init__(self, path):
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
            raise NpzError(f"{path} is not a readable checkpoint or .npz file ({type(e).__name__}: {e})") from None
        self.infos = {i.filename[:-4]: i for i in self.zip.infolist() if i.filename.endswith(".npy")}
        self.names = list(self.infos)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.zip.close()

    def _open(self, name):
        if name not in self.infos:
            raise NpzError(f"{self.path}: no member {name!r}")
        try:
            return self.zip.open(self.infos[name])
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError) as e:
            raise NpzError(f"{self.path}: member {name!r} cannot be read ({e})") from None

    def header(self, name):
        """(shape, dtype) that member ``name`` declares, read from its header only."""
        with self._open(name) as f:
            shape, _, dtype = _header(f, f"{self.path}: member {name!r}")
        return shape, dtype

    def read(self, name, shape=None, dtype=None, text=False):
        """Member ``name`` as an array. Refused before its data are read: a dtype that is not
        numbers (``text``: a unicode string of at most MAX_TEXT_BYTES), a declared size that
        differs from the zip's record of the member, a shape other than ``shape`` or a dtype
        of another kind than ``dtype`` (when given)."""
        info = self.infos.get(name)
        with self._open(name) as f:
            where = f"{self.path}: member {name!r}"
            declared, fortran, dt = _header(f, where)
            if text:
                if dt.kind != "U" or declared != ():
                    raise NpzError(f"{where} declares {dt} {declared}, expected a text string")
            elif dt.kind not in "biuf" or dt.hasobject:
                raise NpzError(f"{where} declares dtype {dt}, expected numbers")
            if shape is not None and declared != tuple(shape):
                raise NpzError(f"{where} declares shape {declared}, expected {tuple(shape)}")
            if dtype is not None and dt.kind != np.dtype(dtype).kind:
                raise NpzError(f"{where} declares dtype {dt}, expected {np.dtype(dtype)}")
            nbytes = math.prod(declared) * dt.itemsize           # Python integers: no wrap-around
            if nbytes != info.file_size - f.tell():
                raise NpzError(f"{where} declares {nbytes:,} bytes of data ({dt} {declared}) but "
                               f"holds {info.file_size - f.tell():,}: the file is damaged")
            if text and nbytes > MAX_TEXT_BYTES:
                raise NpzError(f"{where} declares {nbytes:,} bytes of text, more than the "
                               f"{MAX_TEXT_BYTES:,} allowed")
            if shape is None and nbytes > MAX_UNCHECKED_BYTES:
                raise NpzError(f"{where} declares {nbytes:,} bytes ({dt} {declared}), more than "
                               f"the {MAX_UNCHECKED_BYTES:,} a member of unknown shape may")
            try:
                data = f.read(nbytes)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
                raise NpzError(f"{where} is damaged ({e})") from None
        if len(data) != nbytes:
            raise NpzError(f"{where} is truncated ({len(data):,} of {nbytes:,} bytes)")
        array = np.frombuffer(data, dtype=dt).reshape(declared, order="F" if fortran else "C")
        return array.copy() if text else np.array(array)      # writable, owning its memory
