"""Issue 12, "engine API accepting nonsense": impossible values are refused where they enter,
with an error that names the class, the argument and the value — and nothing is half-done."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn, optim


@pytest.mark.parametrize("make,message", [
    (lambda: nn.Conv2d(1, 2, 0), r"Conv2d: kernel_size must be at least 1, got \(0, 0\)"),
    (lambda: nn.Conv2d(1, 2, 3, stride=0), r"Conv2d: stride must be at least 1"),
    (lambda: nn.Conv2d(1, 2, 3, padding=-1), r"Conv2d: padding must be at least 0"),
    (lambda: nn.Conv2d(0, 2, 3), r"Conv2d: in_channels must be a positive integer, got 0"),
    (lambda: nn.ConvTranspose2d(2, 0, 3), r"ConvTranspose2d: out_channels must be a positive integer"),
    (lambda: nn.ConvTranspose2d(2, 1, (3, 0)), r"ConvTranspose2d: kernel_size must be at least 1"),
    (lambda: nn.ConvTranspose2d(2, 1, 3, stride=0), r"ConvTranspose2d: stride must be at least 1"),
    (lambda: nn.Linear(0, 3), r"Linear: in_features must be a positive integer, got 0"),
    (lambda: nn.Linear(3, 2.5), r"Linear: out_features must be a positive integer, got 2.5"),
])
def test_layers_refuse_impossible_sizes(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("dtype", [np.int32, np.float16, np.dtype(">f4")])
def test_modules_convert_only_to_float32_or_float64(dtype):
    """float16 and big-endian were accepted, then the numba kernels failed to compile."""
    lin = nn.Linear(3, 2)
    before = lin.weight.data.copy()
    with pytest.raises(TypeError, match=r"Linear.to: dtype must be float32 or float64 .* got "
                                        + str(np.dtype(dtype))):
        lin.to(dtype)
    np.testing.assert_array_equal(lin.weight.data, before)      # the weights were not zeroed


@pytest.mark.parametrize("make,message", [
    (lambda p: optim.Adam(p, lr=float("nan")), r"Adam: lr must be a finite number >= 0, got nan"),
    (lambda p: optim.Adam(p, eps=float("nan")), r"Adam: eps must be a finite number >= 0"),
    (lambda p: optim.Adam(p, betas=(0.9, 0.99, 0.9)), r"Adam: betas must be two numbers in \[0, 1\)"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), r"Adam: betas must be two numbers in \[0, 1\)"),
    (lambda p: optim.SGD(p, lr=-1), r"SGD: lr must be a finite number >= 0, got -1"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=float("inf")), r"SGD: momentum must be a finite"),
    (lambda p: optim.SGD(p + p, lr=0.1), r"SGD: the parameter list holds the same Parameter twice"),
])
def test_optimizers_refuse_impossible_settings(make, message):
    with pytest.raises(ValueError, match=message):
        make(nn.Linear(2, 2).parameters())


def test_optimizers_accept_numpy_scalars():
    optim.Adam(nn.Linear(2, 2).parameters(), lr=np.float32(1e-3), betas=(np.float64(0.5), 0.999))


def test_load_state_dict_is_all_or_nothing():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    bad = {k: np.zeros_like(v) for k, v in before.items()}
    bad["1.bias"] = np.array([None], dtype=object)              # the last entry is unusable
    with pytest.raises(TypeError, match=r"'1.bias' holds object values, expected numbers"):
        model.load_state_dict(bad)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])             # nothing was overwritten


def test_gradcheck_refuses_a_zero_step():
    with pytest.raises(ValueError, match=r"gradcheck: eps .* must be > 0, got 0"):
        mg.gradcheck(nn.Linear(2, 2).double(), np.zeros((1, 2)), eps=0)


def test_optimizer_state_from_another_optimizer_is_refused_at_load():
    model = nn.Linear(2, 2)
    sgd = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for p in model.parameters():
        p.grad[...] = 1
    sgd.step()
    adam = optim.Adam(model.parameters(), lr=1e-3)
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: the hyper-parameters are .*'momentum'"
                                         r".*expected .*'betas'.*another optimizer"):
        adam.load_state_dict(sgd.state_dict())
    assert adam.state == {} and adam.lr == 1e-3                   # unchanged
    bad = adam.state_dict()
    bad["param_groups"][0]["lr"] = float("nan")
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: lr must be a finite number >= 0, got nan"):
        adam.load_state_dict(bad)
