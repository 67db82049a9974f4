"""Bad input gets a clear error naming the layer and the expected vs actual value."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn


def arr(shape, device, dtype=np.float32):
    return mg.to_device(np.random.default_rng(0).standard_normal(shape).astype(dtype), device)


@pytest.mark.parametrize("module,shape,pattern", [
    (lambda: nn.Linear(4, 3), (2, 5), r"Linear: expected 4 features.*got 5"),
    (lambda: nn.Linear(4, 3), (2, 4, 1), r"Linear: expected a 2-D input, got shape \(2, 4, 1\)"),
    (lambda: nn.Conv2d(3, 2, 3), (2, 1, 5, 5), r"Conv2d: expected 3 features/channels on axis 1.*got 1"),
    (lambda: nn.Conv2d(1, 2, 3), (1, 5, 5), r"Conv2d: expected a 4-D input, got shape \(1, 5, 5\)"),
    (lambda: nn.Conv2d(1, 2, 5, padding=1), (2, 1, 2, 2), r"Conv2d: kernel 5x5 is larger than the padded input 4x4"),
    (lambda: nn.ConvTranspose2d(2, 1, 3), (2, 3, 4, 4), r"ConvTranspose2d: expected 2 features/channels.*got 3"),
    (lambda: nn.ConvTranspose2d(2, 1, 1, padding=1), (2, 2, 1, 1), r"ConvTranspose2d: input 1x1 gives an empty output"),
    (lambda: nn.BatchNorm2d(3), (2, 3, 4), r"BatchNorm2d: expected a 4-D input"),
    (lambda: nn.BatchNorm1d(3), (2, 4), r"BatchNorm1d: expected 3 features"),
    (lambda: nn.BatchNorm1d(3), (1, 3), r"BatchNorm1d: training needs more than 1 value per channel"),
    (lambda: nn.LayerNorm(5), (2, 4), r"LayerNorm: expected input ending in \(5,\), got shape \(2, 4\)"),
    (lambda: nn.Reshape(3, 3), (2, 8), r"Reshape: cannot reshape input of shape \(2, 8\)"),
])
def test_bad_input_shape(module, shape, pattern, device):
    m = module().to(device)
    with pytest.raises(ValueError, match=pattern):
        m(arr(shape, device))


def test_wrong_dtype_is_an_error_not_a_silent_upcast(device):
    with pytest.raises(TypeError, match=r"Linear: input has dtype float64, expected float32"):
        nn.Linear(3, 2).to(device)(arr((2, 3), device, np.float64))
    with pytest.raises(TypeError, match=r"ReLU: input must be a floating-point array, got dtype int64"):
        nn.ReLU()(mg.to_device(np.ones((2, 2), dtype=np.int64), device))


def test_not_an_array():
    with pytest.raises(TypeError, match=r"Linear: expected a NumPy or CuPy array as input, got list"):
        nn.Linear(2, 2)([[1.0, 2.0]])


@pytest.mark.parametrize("module,shape", [
    (lambda: nn.Linear(3, 2), (4, 3)), (lambda: nn.Conv2d(1, 2, 3), (2, 1, 4, 4)),
    (lambda: nn.ConvTranspose2d(1, 2, 3), (2, 1, 4, 4)), (lambda: nn.BatchNorm1d(3), (4, 3)),
    (lambda: nn.LeakyReLU(), (2, 3)), (lambda: nn.Dropout(), (2, 3)), (lambda: nn.Flatten(), (2, 3, 2)),
    (lambda: nn.LayerNorm(3), (2, 3)),
])
def test_backward_before_forward_and_wrong_gradient_shape(module, shape, device):
    m = module().to(device)
    name = type(m).__name__
    with pytest.raises(RuntimeError, match=rf"{name}.backward called before forward"):
        m.backward(arr(shape, device))
    y = m(arr(shape, device))
    bad = arr(tuple(s + 1 for s in y.shape), device)
    expected = rf"{name}.backward: gradient has shape .* expected {tuple(y.shape)}"
    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        m.backward(bad)
    with pytest.raises(TypeError, match=rf"{name}.backward: gradient has dtype float64, expected float32"):
        m.backward(arr(y.shape, device, np.float64))


def test_loss_errors(device):
    loss = nn.BCEWithLogitsLoss()
    with pytest.raises(RuntimeError, match="BCEWithLogitsLoss.backward called before"):
        loss.backward()
    with pytest.raises(ValueError, match=r"BCEWithLogitsLoss: target shape \(3,\) differs from input shape \(3, 1\)"):
        loss(arr((3, 1), device), arr((3,), device))
    with pytest.raises(ValueError, match=r"BCELoss: every input must be in \[0, 1\]"):
        nn.BCELoss()(mg.to_device(np.array([0.5, 1.5]), device), mg.to_device(np.array([1.0, 0.0]), device))


def test_load_state_dict_checks_names_and_shapes():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    good = {k: np.array(v) for k, v in model.state_dict().items()}
    before = {k: np.array(v) for k, v in model.state_dict().items()}
    missing = dict(good)
    del missing["1.running_var"]
    with pytest.raises(KeyError, match=r"Sequential.load_state_dict: missing keys \['1.running_var'\]"):
        model.load_state_dict(missing)
    with pytest.raises(KeyError, match=r"unexpected keys \['2.weight'\]"):
        model.load_state_dict(dict(good, **{"2.weight": np.zeros(2)}))
    wrong = dict(good, **{"0.weight": np.zeros((2, 4), np.float32), "0.bias": np.full(2, 7.0)})
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(2, 4\), expected \(2, 3\)"):
        model.load_state_dict(wrong)
    for k, v in model.state_dict().items():   # nothing was half-loaded
        np.testing.assert_array_equal(v, before[k])


def test_device_mismatch_is_an_error(monkeypatch):
    """A NumPy input fed to a model that lives on the GPU (simulated when there is none)."""
    model = nn.Linear(3, 2)
    monkeypatch.setattr(nn.Module, "_device_and_dtype", lambda self: ("cuda", np.dtype(np.float32)))
    with pytest.raises(ValueError, match=r"Linear: input is on device 'cpu' but the module is on 'cuda'"):
        model(np.zeros((2, 3), np.float32))


@pytest.mark.gpu
def test_device_mismatch_real_gpu():
    model = nn.Linear(3, 2).to("cuda")
    with pytest.raises(ValueError, match=r"input is on device 'cpu' but the module is on 'cuda'"):
        model(np.zeros((2, 3), np.float32))


def test_unknown_device():
    with pytest.raises(ValueError, match=r"unknown device 'tpu'"):
        mg.to_device(np.zeros(2), "tpu")
    with pytest.raises(ValueError, match=r"unknown device 'gpu'"):
        nn.Linear(2, 2).to("gpu")


def test_constructor_errors():
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair"):
        nn.Conv2d(1, 1, (3, 3, 3))
    with pytest.raises(TypeError, match="Sequential: item 1 is a int"):
        nn.Sequential(nn.ReLU(), 3)
    with pytest.raises(TypeError, match="not a minigan Parameter"):
        mg.optim.SGD([np.zeros(3)], lr=0.1)


def test_a_weight_larger_than_the_machine_is_refused_before_it_is_allocated(monkeypatch):
    """On a machine that overcommits memory, allocating first would succeed and the draw would
    get the process killed; the layer refuses up front, naming the shape and the sizes."""
    from minigan.nn import init
    monkeypatch.setattr(init, "physical_memory", lambda: 2 ** 20)          # a 1 MiB machine
    with pytest.raises(MemoryError, match=r"shape \(1000, 1000\) needs .* GiB to initialise, more than this machine.s"):
        nn.Linear(1000, 1000)
    nn.Linear(100, 100)                                                    # 120 kB: fits
