"""Shared fixtures: the device the layer tests run on.

    pytest                     -> CPU (NumPy)
    pytest --device cuda       -> GPU (CuPy); or MINIGAN_TEST_DEVICE=cuda pytest
Tests marked ``gpu`` skip cleanly when no CUDA device is present.

Every correctness check of the engine runs twice, once on each path (minigan/dispatch.py):
``plain`` — the math as written in the layer files — and ``fast`` — the registered fast
versions (numba, CUDA, conv_taps, fused BatchNorm, ...). A test opts in with the ``path``
fixture (or ``pytestmark = pytest.mark.usefixtures("path")``); the path is in its id, e.g.
``test_layer_gradcheck[plain-conv-k3]``.
"""
import importlib.util
import os

import numpy as np
import pytest

import minigan as mg


def pytest_addoption(parser):
    parser.addoption("--device", default=os.environ.get("MINIGAN_TEST_DEVICE", "cpu"),
                     choices=["cpu", "cuda"], help="array backend for the layer tests")


def pytest_collection_modifyitems(config, items):
    """Skip, test by test and with the reason, what this machine cannot run: tests marked
    ``gpu`` without a CUDA GPU, tests marked ``oracle`` (PyTorch as the reference) without torch."""
    no_gpu = not mg.cuda_available()
    no_torch = importlib.util.find_spec("torch") is None
    for item in items:
        if no_gpu and "gpu" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU with CuPy (none found)"))
        if no_torch and "oracle" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="PyTorch is the test oracle: pip install torch==2.13.0"))


@pytest.fixture(scope="session")
def device(request):
    """'cpu' or 'cuda': where layer/loss/optimizer tests put their arrays and modules."""
    name = request.config.getoption("--device")
    if name == "cuda" and not mg.cuda_available():
        pytest.skip("--device cuda given but no CUDA GPU/CuPy is available")
    return name


@pytest.fixture(params=mg.dispatch.PATHS)
def path(request):
    """'plain' or 'fast': the engine path this test runs on (both, by parametrization)."""
    with mg.dispatch.use(request.param):
        yield request.param


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
