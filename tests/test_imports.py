"""Every module of minigan imports on its own, in a fresh interpreter: no import cycle hides
behind the order in which a test session happened to import things."""
import importlib.util
import pkgutil
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import minigan

OPTIONAL = {"minigan.kernels.gpu": "cupy"}      # modules that need an optional package


def _modules():
    names = ["minigan"] + [m.name for m in pkgutil.walk_packages(minigan.__path__, "minigan.")]
    return [n for n in names if n not in OPTIONAL or importlib.util.find_spec(OPTIONAL[n])]


def test_every_module_imports_alone_in_a_fresh_interpreter():
    names = _modules()
    assert len(names) > 30
    random.Random(0).shuffle(names)

    def try_import(name):
        proc = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True)
        return name, proc.returncode, proc.stderr.strip().splitlines()[-1:] if proc.returncode else ""

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [r for r in pool.map(try_import, names) if r[1] != 0]
    assert failures == []
