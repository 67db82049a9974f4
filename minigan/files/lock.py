"""A run owns its output folder: an advisory lock file, ``<folder>/.minigan.lock``, holding the
owner's pid, host and start time.

The lock is ``fcntl.flock`` on that file where the OS has it (the kernel drops it when the owner
dies, even by kill -9, so a lock left by a dead run is stale by construction) and the pid in the
file elsewhere (a lock whose pid no longer runs on this host is stale). A stale lock is taken
over; a live one is refused with :class:`FolderLocked`, naming the folder and the owner. Release
deletes the file (and the folder, if the lock created it and it is still empty).
"""
import atexit
import errno
import os
import socket
import time

try:
    import fcntl
except ImportError:            # Windows: the pid in the file is the lock
    fcntl = None

__all__ = ["FolderLock", "FolderLocked", "LOCK_FILE", "release_all"]

LOCK_FILE = ".minigan.lock"
_HELD = []                  # this process's locks, for release_all


def release_all():
    """Release every lock this process holds (a command line's end: its run no longer writes)."""
    for lock in list(_HELD):
        lock.release()


class FolderLocked(OSError):
    """Another live process holds the folder's lock (an OSError: the command lines report it in
    one line with exit code 2)."""

    def __str__(self):
        return self.strerror


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:              # alive, another user's
        return True
    except OSError:
        return False
    return True


def _read_owner(path):
    """(pid, host, text) of a lock file, (None, None, text) when it holds no pid."""
    try:
        with open(path, "rb") as f:
            text = f.read(200).decode("utf-8", "replace")
    except OSError:
        return None, None, ""
    fields = dict(part.split("=", 1) for part in text.split() if "=" in part)
    try:
        return int(fields.get("pid")), fields.get("host"), text
    except (TypeError, ValueError):
        return None, None, text


class FolderLock:
    """The lock on ``folder``: :meth:`acquire` (creating the folder if needed), :meth:`release`
    (also by :func:`release_all` and at interpreter exit). ``what`` names the option in messages (e.g. ``"--out"``)."""

    def __init__(self, folder, what="--out"):
        self.folder, self.what = os.fspath(folder), what
        self.path = os.path.join(self.folder, LOCK_FILE)
        self.fd, self.created_folder, self.took_over = None, False, None

    def acquire(self):
        """Take the lock; returns self. Raises FolderLocked while a live process holds it."""
        if self.fd is not None:
            return self
        if not os.path.isdir(self.folder):
            os.makedirs(self.folder, exist_ok=True)
            self.created_folder = True
        for _ in range(20):                  # another process may delete or replace the file meanwhile
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if not self._lock(fd):
                    raise self._refusal()
                if os.fstat(fd).st_ino != os.stat(self.path).st_ino:
                    raise FileNotFoundError          # released (deleted) under us: try again
            except FileNotFoundError:
                os.close(fd)
                continue
            except BaseException:
                os.close(fd)
                raise
            pid, _, _ = _read_owner(self.path)
            if pid is not None and pid != os.getpid():
                self.took_over = pid             # a stale lock: its owner died without releasing
            os.ftruncate(fd, 0)
            os.write(fd, (f"pid={os.getpid()} host={socket.gethostname()} "
                          f"started={time.strftime('%Y-%m-%dT%H:%M:%S')}\n").encode())
            os.fsync(fd)
            self.fd = fd
            _HELD.append(self)
            atexit.register(self.release)
            return self
        raise FolderLocked(errno.EBUSY, f"cannot take the lock {self.path} (it keeps changing)")

    def _lock(self, fd):
        """True if this process now holds the lock on ``fd``'s file."""
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    return False
                if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
        pid, host, _ = _read_owner(self.path)     # no flock here: the pid decides
        return pid is None or pid == os.getpid() or host != socket.gethostname() or not _pid_alive(pid)

    def _refusal(self):
        pid, host, text = _read_owner(self.path)
        owner = f"pid {pid} on {host}" if pid is not None else f"an unknown process ({text.strip()!r})"
        return FolderLocked(errno.EBUSY, f"{self.what} {self.folder}: in use by another run ({owner}); "
                            f"wait for it to finish, stop it, or choose another {self.what} "
                            f"(lock file {self.path})")

    def release(self):
        """Delete the lock file and drop the lock (and the folder, if the lock created it and
        nothing else was written there)."""
        if self.fd is None:
            return
        try:
            os.remove(self.path)            # before unlocking: a waiter then finds a new file
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None
        _HELD.remove(self)
        atexit.unregister(self.release)
        if self.created_folder:
            try:
                os.rmdir(self.folder)       # only if empty
            except OSError:
                pass

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
