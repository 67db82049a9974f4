"""Shared fixtures: the device the layer tests run on.

    pytest                     -> CPU (NumPy)
    pytest --device cuda       -> GPU (CuPy); or MINIGAN_TEST_DEVICE=cuda pytest
Tests marked ``gpu`` skip cleanly when no CUDA device is present.
"""
import os

import numpy as np
import pytest

import minigan as mg


def pytest_addoption(parser):
    parser.addoption("--device", default=os.environ.get("MINIGAN_TEST_DEVICE", "cpu"),
                     choices=["cpu", "cuda"], help="array backend for the layer tests")


def pytest_collection_modifyitems(config, items):
    if mg.cuda_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU with CuPy (none found)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def device(request):
    """'cpu' or 'cuda': where layer/loss/optimizer tests put their arrays and modules."""
    name = request.config.getoption("--device")
    if name == "cuda" and not mg.cuda_available():
        pytest.skip("--device cuda given but no CUDA GPU/CuPy is available")
    return name


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _seed_minigan():
    mg.seed(0)


@pytest.fixture(scope="session")
def julia_pngs(tmp_path_factory):
    """A folder of 16 grayscale 32x32 Julia-set PNGs (for the image-folder example's tests)."""
    from minigan.data.julia import save_julia_pngs
    folder = tmp_path_factory.mktemp("julia_pngs")
    save_julia_pngs(str(folder), n=16, size=32, seed=0)
    return folder
