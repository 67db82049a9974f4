"""Download one file from a list of mirrors, verified by its MD5, written atomically.

The bytes go to a temporary file in the destination folder; only when the transfer is
complete (as many bytes as the server announced) and the MD5 matches is the file renamed to
its final name with ``os.replace``. A failed, interrupted or corrupt transfer leaves nothing
behind, and the next mirror is tried.
"""
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request

__all__ = ["DownloadError", "download_file", "md5_of_file", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 5.0  # seconds per connection attempt / socket read; short, so offline is fast
_CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """No mirror delivered a complete file with the expected checksum.

    ``attempts`` lists ``(url, reason)`` for every mirror tried.
    """

    def __init__(self, filename, attempts):
        self.filename = filename
        self.attempts = list(attempts)
        lines = "\n".join(f"  {url}: {reason}" for url, reason in self.attempts)
        super().__init__(f"could not download {filename}; tried:\n{lines}")


def md5_of_file(path):
    """Hex MD5 of a file's bytes."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fetch(url, tmp, timeout, progress, desc, max_bytes=None):
    """Stream ``url`` into the open file ``tmp``; return the hex MD5 of what was received.

    Raises OSError when the server sends fewer bytes than its Content-Length, or announces or
    sends more than ``max_bytes`` (a broken or hostile mirror must not fill the disk).
    """
    h = hashlib.md5()
    received = 0
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        length = resp.headers.get("Content-Length")
        total = int(length) if length is not None else None
        if max_bytes is not None and (total or 0) > max_bytes:
            raise OSError(f"the server announces {total:,} bytes, more than the {max_bytes:,} "
                          f"this file can be")
        bar = None
        if progress:
            from tqdm import tqdm  # imported here: only downloads need it
            bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                       leave=False)
        try:
            while True:
                block = resp.read(_CHUNK)
                if not block:
                    break
                received += len(block)
                if max_bytes is not None and received > max_bytes:
                    raise OSError(f"the server sent more than the {max_bytes:,} bytes this file "
                                  f"can be")
                tmp.write(block)
                h.update(block)
                if bar is not None:
                    bar.update(len(block))
        finally:
            if bar is not None:
                bar.close()
    if total is not None and received != total:
        raise OSError(f"transfer interrupted: expected {total} bytes, got {received}")
    return h.hexdigest()


def download_file(filename, mirrors, dest_dir, md5, timeout=DEFAULT_TIMEOUT, progress=True,
                  max_bytes=None):
    """Download ``mirror + filename`` from the first mirror that works into ``dest_dir``
    (at most ``max_bytes``, when given).

    The file is accepted only when its MD5 equals ``md5`` (hex string); pass ``md5=None`` to
    skip the check (not recommended). Returns the final path; raises DownloadError listing
    every mirror tried and why it failed.
    """
    os.makedirs(dest_dir, exist_ok=True)
    final = os.path.join(dest_dir, filename)
    attempts = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        fd, tmp_path = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=dest_dir)
        try:
            with os.fdopen(fd, "wb") as tmp:
                got = _fetch(url, tmp, timeout, progress, desc=filename, max_bytes=max_bytes)
            if md5 is not None and got != md5.lower():
                raise OSError(f"checksum mismatch: expected md5 {md5}, got {got}")
            os.replace(tmp_path, final)
            return final
        except (OSError, http.client.HTTPException, ValueError) as e:  # URLError is an OSError
            attempts.append((url, _reason(e)))
        finally:
            if os.path.exists(tmp_path):
                os.remove(tmp_path)
    raise DownloadError(filename, attempts)


def _reason(e):
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        return f"{e.reason}"
    return f"{e}" or type(e).__name__
