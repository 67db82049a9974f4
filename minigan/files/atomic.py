"""Atomic writes: a file is either its old self or its new self, never half of either.

The file is written to a temporary name in the same folder, flushed and fsync'ed, then renamed
over the old one with ``os.replace`` (atomic on POSIX and Windows), and the folder is fsync'ed.
What a kill -9 can leave is the temporary file, ``<name>.<random>.tmp`` (:data:`TEMP_TAIL`),
which :func:`remove_stale_temp_files` deletes.
"""
import os
import re
import tempfile

__all__ = ["atomic_write", "remove_stale_temp_files", "TEMP_SUFFIX", "TEMP_TAIL"]

TEMP_SUFFIX = ".tmp"
# what atomic_write's mkstemp adds to a file's name: "." (the prefix's end), random letters,
# digits and "_", then TEMP_SUFFIX; remove_stale_temp_files matches exactly this
TEMP_TAIL = r"\.[A-Za-z0-9_]+" + re.escape(TEMP_SUFFIX)


def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:          # e.g. Windows cannot open folders; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, write):
    """Call ``write(fileobj)`` on a temporary file next to ``path``, then atomically move it
    onto ``path``. If ``write`` raises, the temporary file is removed and ``path`` is untouched."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=TEMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())       # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        if isinstance(e, OSError) and e.errno is not None and e.filename is None:
            e.filename = path               # "No space left on device" names the file it was for
        raise
    _fsync_dir(folder)
    return path


def remove_stale_temp_files(folder, names=(), name_regex=None):
    """Delete the temporary files that :func:`atomic_write` leaves behind when the process is
    killed mid-write (``<name>.<random>.tmp`` next to each of ``names``, and next to every file
    whose whole name matches the regular expression ``name_regex``, e.g. the grids'
    ``step_<step>.png``); returns their paths. Only call it where no other process writes the
    same files."""
    if not os.path.isdir(folder):
        return []
    finals = [re.escape(n) for n in names] + ([name_regex] if name_regex else [])
    if not finals:
        return []
    pattern = re.compile(r"^(?:" + "|".join(f"(?:{f})" for f in finals) + r")" + TEMP_TAIL + "$")
    removed = []
    for entry in os.listdir(folder):
        path = os.path.join(folder, entry)
        if pattern.match(entry) and os.path.isfile(path):
            os.remove(path)
            removed.append(path)
    return removed
