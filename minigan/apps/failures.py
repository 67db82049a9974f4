"""One handler for the command lines' expected failures (the examples and ``python -m minigan.eval``).

An expected failure is a problem with what the user gave or with the machine, not a bug: a bad
option value or an unusable input (:class:`UsageError`), a data file or checkpoint that cannot be
used, an OS error (no permission, a read-only or full disk, a file where a folder should be),
too little memory, or Ctrl-C outside training. :func:`command_line` turns each into one line on
stderr that names the file or option and what to do, and the exit code 2 (130 for Ctrl-C); in a
data-parallel run a failure of one process ends every process (distributed/together.py). Any
other exception is a bug to see: its traceback is printed as usual.
"""
import errno
import functools
import os
import signal
import sys
import threading

from ..data.download import DownloadError
from ..data.idx import IDXFormatError
from ..distributed.together import AgreedFailure, abort_others
from ..files.checkpoint import CheckpointError
from ..files.lock import release_all
from ..gan.folder import ImageFolderError

EXIT_OK, EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED = 0, 2, 3, 130

__all__ = ["UsageError", "command_line", "one_line", "note_options", "noted_options", "memory_advice",
           "describe_os_error", "EXIT_OK", "EXIT_USAGE", "EXIT_DIVERGED", "EXIT_INTERRUPTED"]


class UsageError(ValueError):
    """A bad option value or unusable input: the message is the whole report."""


EXPECTED = (UsageError, CheckpointError, ImageFolderError, IDXFormatError, DownloadError, OSError,
            MemoryError, AgreedFailure)

_ADVICE = {
    errno.ENOSPC: "the disk is full: free some space or choose an --out on another disk",
    errno.EDQUOT: "the disk quota is used up: free some space or choose an --out elsewhere",
    errno.EACCES: "no permission: choose another --out or change the folder's permissions",
    errno.EPERM: "not permitted: choose another --out or change the folder's permissions",
    errno.EROFS: "a read-only file system: choose an --out on a writable disk",
    errno.ENOTDIR: "a part of this path is a file, not a folder",
    errno.EISDIR: "a folder is where a file should be: move or rename it",
    errno.ENOENT: "no such file or folder",
}


def describe_os_error(e):
    """'<file>: <what went wrong> (<what to do>)' for an OSError."""
    where = " -> ".join(os.fspath(f) for f in (e.filename, e.filename2) if f is not None)
    what = e.strerror or str(e) or type(e).__name__
    advice = _ADVICE.get(e.errno)
    text = f"{where}: {what}" if where else what
    return text + (f" ({advice})" if advice and advice != what.lower() else "")


# options that size what a command holds in memory, in the order worth trying
MEMORY_OPTIONS = ("--batch-size", "--z-dim", "--width", "--image-size", "--n", "--walks")
_options = set()            # the options of the command line being run (its parser notes them)


def note_options(options):
    """Record the option strings of the running command line (for the out-of-memory advice)."""
    _options.clear()
    _options.update(options)


def noted_options():
    """The option strings noted by :func:`note_options`."""
    return set(_options)


def memory_advice(options=MEMORY_OPTIONS):
    """'lower --batch-size, --z-dim or --width': those of ``options`` this command line has."""
    lower = [o for o in options if o in _options][:3]
    if not lower:
        return "close other programs or use a machine with more memory"
    return "lower " + (lower[0] if len(lower) == 1 else ", ".join(lower[:-1]) + " or " + lower[-1])


def one_line(e):
    """The report of an expected failure, on one line."""
    if isinstance(e, MemoryError):
        detail = str(e) or "an allocation failed"
        return f"out of memory: {detail} ({memory_advice()})"
    if isinstance(e, OSError) and e.strerror and not str(e).startswith(e.strerror):
        return describe_os_error(e)
    text = getattr(e, "one_line", None) or str(e) or type(e).__name__
    return " ".join(text.split())


def _allow_keyboard_interrupt():
    """Ctrl-C raises KeyboardInterrupt again (a script may have set SIG_DFL while it imported)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def command_line(main=None, *, prog=None):
    """Decorate ``main(argv) -> exit code`` so that expected failures print one line
    ``PROG: error: ...`` and return 2 (Ctrl-C: ``PROG: interrupted``, 130); the output folders'
    locks it took are released when it returns. PROG defaults to the script's name, as
    argparse's does."""
    def wrap(fn):
        @functools.wraps(fn)
        def run(argv=None):
            name = prog or os.path.basename(sys.argv[0])
            _allow_keyboard_interrupt()
            try:
                return fn(argv)
            except KeyboardInterrupt:
                print(f"{name}: interrupted", file=sys.stderr, flush=True)
                abort_others(EXIT_INTERRUPTED)
                return EXIT_INTERRUPTED
            except EXPECTED as e:
                if getattr(e, "speaker", True):     # data-parallel: rank 0 reports agreed ones
                    print(f"{name}: error: {one_line(e)}", file=sys.stderr, flush=True)
                if not getattr(e, "agreed", False):   # only this process failed: end them all
                    abort_others(EXIT_USAGE)
                return EXIT_USAGE
            finally:
                release_all()           # the run's output folders are free again
        return run
    return wrap(main) if main is not None else wrap
