"""What every benchmark's command line shares: option values checked before anything runs (one
line, exit code 2: a benchmark run with ``--processes 0`` must not get as far as writing a
table), and results written whole and said out loud when they replace a committed file.

    p.add_argument("--batch", type=positive_int)        # also nonneg_int, positive_float, fraction
    print(save_result(path, text))                       # atomic; says whether it replaced a file
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minigan.files.atomic import atomic_write  # noqa: E402


def _number(convert, ok, what):
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return value
    parse.__name__ = what
    return parse


positive_int = _number(int, lambda v: v >= 1, "a positive integer")
nonneg_int = _number(int, lambda v: v >= 0, "an integer >= 0")
positive_float = _number(float, lambda v: 0 < v < float("inf"), "a positive finite number")
fraction = _number(float, lambda v: 0 <= v < 1, "a number in [0, 1)")


def save_result(path, data):
    """Write ``data`` (text or bytes) to ``path`` atomically (a killed run leaves the old file
    whole) and return the line to print: "wrote PATH", or, when it replaced a file, how to see
    and undo that (results are committed: git has the old one)."""
    existed = os.path.exists(path)
    payload = data.encode() if isinstance(data, str) else data
    atomic_write(path, lambda f: f.write(payload))
    if not existed:
        return f"wrote {path}"
    return (f"replaced {path} (if it was committed, `git diff -- {path}` shows the change and "
            f"`git checkout -- {path}` brings the old one back)")
