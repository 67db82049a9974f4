"""The layers of minigan and the directions imports may go (docs/architecture.md draws them):

    apps            minigan/apps, every package's __main__.py   (the command lines)
    gan   eval      the GAN toolkit; sample-quality scores      (neither imports the other)
    files  data  distributed                                    (shared helpers, data sets, processes)
    engine          arrays, backend, dispatch, philox, kernels, nn, optim, gradcheck

A module may import its own package and the packages its layer lists below; nothing imports
upwards. Read from the source (ast), so an import inside a function counts too.
"""
import ast
import os
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "minigan")
ENGINE = {"arrays", "backend", "dispatch", "philox", "kernels", "nn", "optim", "gradcheck"}
LOWER = ENGINE | {"files", "data", "distributed"}
MAY_IMPORT = {                # package -> the packages it may import (besides itself)
    **{name: ENGINE for name in ENGINE},
    "files": ENGINE,
    "data": ENGINE,
    "distributed": ENGINE,
    "eval": LOWER,
    "gan": LOWER,
}
# anything else (apps, a package's __main__.py, a package added later) is an application: it may
# import every layer, and no layer of the library may import it


def package_of(module):
    """'minigan.gan.trainer' -> 'gan'; 'minigan' (the top-level facade) -> ''."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def modules():
    for folder, _, files in os.walk(ROOT):
        for f in sorted(files):
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(folder, f), os.path.dirname(ROOT))[:-3]
                parts = rel.split(os.sep)
                is_package = parts[-1] == "__init__"
                yield ".".join(parts[:-1] if is_package else parts), os.path.join(folder, f), is_package


def imports(module, path, is_package):
    """The minigan modules that ``path`` imports (absolute names)."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "minigan")
        elif isinstance(node, ast.ImportFrom):
            base = (here[:len(here) - node.level + 1] if node.level else [])
            name = ".".join(base + ([node.module] if node.module else []))
            if name.split(".")[0] != "minigan":
                continue
            if node.module is None or name == "minigan":       # from . import nn, optim
                yield from (f"{name}.{a.name}" for a in node.names)
            else:
                yield name


def violations():
    found = []
    for module, path, is_package in modules():
        own = package_of(module)
        if own not in MAY_IMPORT or module.endswith(".__main__"):
            continue                                   # the facade and the applications
        for target in imports(module, path, is_package):
            other = package_of(target)
            if other and other != own and other not in MAY_IMPORT[own]:
                found.append(f"{module} imports {target} ({own} may not import {other})")
    return sorted(found)


def test_no_layer_imports_a_higher_one():
    assert violations() == []


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    """The test itself: an nn module that imports gan, and a gan module that imports apps, fail."""
    root = tmp_path / "minigan"
    for pkg, src in (("nn", "from ..gan import trainer\n"), ("gan", "from minigan.apps import cli\n"),
                     ("eval", "from . import metrics\nfrom ..files import atomic\n")):
        (root / pkg).mkdir(parents=True)
        (root / pkg / "__init__.py").write_text("")
        (root / pkg / "bad.py").write_text(src)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", str(root))
    assert violations() == ["minigan.gan.bad imports minigan.apps (gan may not import apps)",
                            "minigan.nn.bad imports minigan.gan (nn may not import gan)"]


@pytest.mark.parametrize("package, absent", [("minigan.eval", "minigan.gan"),
                                             ("minigan.gan", "minigan.apps"),
                                             ("minigan.files", "minigan.gan")])
def test_importing_a_layer_loads_nothing_above_it(package, absent):
    code = (f"import sys, {package}\n"
            f"print(sorted(m for m in sys.modules if m == {absent!r} or m.startswith({absent!r} + '.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(ROOT)).stdout
    assert out.strip() == "[]"
