"""Issue 26, "silent wrong results" in the engine: a gradient is right or refused. A module used
twice in one forward, an output edited in place, a non-Module appended, gradcheck on frozen
parameters and SpectralNorm in training, dtypes no kernel computes in, optimizer state that
would crash at step(), normalisation layers' arguments. On both paths (plain and fast)."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn, optim

pytestmark = pytest.mark.usefixtures("path")


def test_a_module_used_twice_in_one_sequential_is_refused():
    L = nn.Linear(3, 3)
    with pytest.raises(ValueError, match=r"Sequential: item 2 \(Linear\) is already used in item 0"):
        nn.Sequential(L, nn.Tanh(), L)
    act = nn.Tanh()                      # a shared activation: its backward keeps one output too
    with pytest.raises(ValueError, match=r"item 3 \(Tanh\) is already used in item 1"):
        nn.Sequential(nn.Linear(3, 3), act, nn.Linear(3, 3), act)
    inner = nn.Linear(3, 3)
    with pytest.raises(ValueError, match=r"item 1 \(Sequential\) is already used in item 0"):
        nn.Sequential(nn.Sequential(inner), nn.Sequential(inner))


def test_a_module_called_twice_within_one_forward_is_refused_before_backward():
    """dW was off by 0.78 against PyTorch, with no error."""
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            return self.lin(nn.Tanh()(self.lin(x)))

        def backward(self, dy, need_input_grad=True):
            raise AssertionError("never reached")
    x = np.ones((2, 3), np.float32)
    with pytest.raises(RuntimeError, match=r"Linear: this module is used twice in one forward"):
        Twice()(x)
    m = Twice()
    m.lin(x), m.lin(x)                   # separate outer calls (a real and a fake batch): fine
    seq = nn.Sequential(nn.Linear(3, 3))
    seq(x), seq(x)


def test_append_refuses_what_is_not_a_module():
    seq = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(TypeError, match=r"Sequential: item 1 is a ufunc, not a Module"):
        seq.append(np.tanh)
    assert len(seq) == 1
    L = seq[0]
    with pytest.raises(ValueError, match=r"item 1 \(Linear\) is already used in item 0"):
        seq.append(L)


@pytest.mark.parametrize("layer", [nn.Tanh, nn.Sigmoid])
def test_an_output_that_backward_needs_cannot_be_edited_in_place(layer):
    """y += 1 after Tanh's forward used to change its gradient silently (PyTorch raises)."""
    m = layer()
    y = m(np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3))
    with pytest.raises(ValueError, match="read-only"):
        y += 1
    edited = y.copy()                    # what to do instead
    edited += 1
    dx = m.backward(np.ones_like(y))
    expected = 1 - y * y if layer is nn.Tanh else y * (1 - y)
    np.testing.assert_allclose(dx, expected, rtol=1e-6)


def test_gradcheck_skips_frozen_parameters_and_keeps_grads():
    mg.seed(0)
    lin = nn.Linear(4, 3).double()
    lin.weight.requires_grad = False
    lin.weight.grad[...] = 7.0
    report = mg.gradcheck(lin, np.random.default_rng(0).standard_normal((5, 4)))
    assert report.ok and set(report.errors) == {"input", "bias"}, report
    assert (lin.weight.grad == 7.0).all()


@pytest.mark.parametrize("make", [lambda: nn.SpectralNorm(nn.Linear(5, 3)),
                                  lambda: nn.SpectralNorm(nn.Conv2d(2, 3, 3)),
                                  lambda: nn.SpectralNorm(nn.ConvTranspose2d(2, 3, 3))])
def test_gradcheck_passes_spectral_norm_in_training_mode(make):
    """Each forward moved u, v (power iteration), so finite differences compared different
    functions: a correct backward was reported wrong."""
    mg.seed(0)
    m = make().double().train()
    shape = (4, 5) if isinstance(m.layer, nn.Linear) else (2, 2, 5, 5)
    report = mg.gradcheck(m, np.random.default_rng(1).standard_normal(shape))
    assert report.ok, report
    u = m.weight_u.copy()
    m(np.random.default_rng(2).standard_normal(shape))
    assert not np.array_equal(u, m.weight_u)        # training forwards iterate again afterwards


@pytest.mark.parametrize("dtype", [np.float16, np.dtype(">f4"), np.dtype(">f8")])
@pytest.mark.parametrize("make", [lambda: nn.LeakyReLU(0.2), nn.Tanh, lambda: nn.Dropout(0.5),
                                  nn.ReLU, nn.BCEWithLogitsLoss, nn.MSELoss])
def test_dtypes_no_kernel_computes_in_are_refused_with_one_line(make, dtype):
    """float16 and big-endian arrays reached numba (a TypingError page) or computed silently in
    a dtype the rest of the model does not use."""
    m = make()
    x = np.linspace(-1, 1, 6).astype(dtype).reshape(2, 3)
    with pytest.raises(TypeError, match=rf"{type(m).__name__}: input has dtype .*expected float32 "
                                        rf"or float64"):
        m(x, x) if not isinstance(m, nn.Module) else m(x)


def adam_with_a_step():
    p = nn.Linear(2, 2).parameters()
    opt = optim.Adam(p, lr=0.1)
    for q in p:
        q.grad[...] = 1.0
    opt.step()
    return opt


@pytest.mark.parametrize("edit, message", [
    (lambda sd: sd["state"][0].pop("exp_avg_sq"), r"parameter 0: its state lacks \['exp_avg_sq'\]"),
    (lambda sd: sd["state"][0].update(exp_avg=0.5), r"state 'exp_avg' is a float, expected numbers"),
    (lambda sd: sd["state"][0].update(exp_avg=np.full((2, 2), "a")), r"state 'exp_avg' is shape \(2, 2\), dtype <U1"),
    (lambda sd: sd["state"][1].update(step="3"), r"parameter 1: state 'step' is '3', expected a whole number"),
    (lambda sd: sd["state"][1].update(step=-1), r"state 'step' is -1"),
    (lambda sd: sd["state"][1].update(step=float("nan")), r"state 'step' is nan"),
    (lambda sd: sd["state"].update({"x": {}}), r"state key 'x' is not a parameter index"),
    (lambda sd: sd["state"].update({0: [1, 2]}), r"parameter 0: its state is a list, expected a dict"),
    (lambda sd: sd.update(param_groups="lr"), r"'param_groups' must be a list of dicts"),
])
def test_optimizer_state_that_would_crash_at_step_is_refused_and_changes_nothing(edit, message):
    opt = adam_with_a_step()
    sd = opt.state_dict()
    edit(sd)
    before = opt.state_dict()
    with pytest.raises((ValueError, TypeError), match=message):
        opt.load_state_dict(sd)
    after = opt.state_dict()
    assert after["state"][0]["step"] == before["state"][0]["step"] == 1
    np.testing.assert_array_equal(after["state"][0]["exp_avg"], before["state"][0]["exp_avg"])


def test_a_torch_style_float_step_is_accepted():
    opt = adam_with_a_step()
    sd = opt.state_dict()
    sd["state"][0]["step"] = np.float32(1.0)           # torch keeps step as a float tensor
    opt.load_state_dict(sd)
    assert opt.state[0]["step"] == 1 and isinstance(opt.state[0]["step"], int)


def test_sgd_nesterov_must_be_a_bool():
    opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1, momentum=0.9)
    sd = opt.state_dict()
    sd["param_groups"][0]["nesterov"] = "yes"
    with pytest.raises(ValueError, match=r"SGD.load_state_dict: nesterov must be true or false"):
        opt.load_state_dict(sd)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.BatchNorm2d(4, eps=-1e-5), r"BatchNorm2d: eps must be a finite number > 0, got -1e-05"),
    (lambda: nn.BatchNorm1d(4, eps=float("nan")), r"BatchNorm1d: eps must be a finite number > 0"),
    (lambda: nn.BatchNorm1d(4, momentum=1.5), r"BatchNorm1d: momentum must be a number in \[0, 1\] or None"),
    (lambda: nn.BatchNorm1d(4, momentum="0.1"), r"BatchNorm1d: momentum must be"),
    (lambda: nn.BatchNorm2d(0), r"BatchNorm2d: num_features must be a positive integer, got 0"),
    (lambda: nn.BatchNorm2d(2.5), r"BatchNorm2d: num_features must be a positive integer, got 2.5"),
    (lambda: nn.BatchNorm2d(2, affine="no"), r"BatchNorm2d: affine must be True or False"),
    (lambda: nn.LayerNorm(4, eps=0), r"LayerNorm: eps must be a finite number > 0, got 0"),
    (lambda: nn.LayerNorm((4, -2)), r"LayerNorm: normalized_shape must be a positive integer, got -2"),
    (lambda: nn.LayerNorm(()), r"LayerNorm: normalized_shape must name at least one dimension"),
    (lambda: nn.LayerNorm(None), r"LayerNorm: normalized_shape must be an int or a tuple of ints"),
    (lambda: nn.SpectralNorm(nn.Linear(2, 2), eps=-1.0), r"SpectralNorm: eps must be a finite number > 0"),
    (lambda: nn.SpectralNorm(nn.Linear(2, 2), n_power_iterations="x"),
     r"SpectralNorm: n_power_iterations must be a positive integer, got 'x'"),
    (lambda: nn.SpectralNorm(nn.Linear(2, 2), dim=2), r"SpectralNorm: dim must be an axis of the 2-D weight"),
])
def test_normalisation_arguments_are_named_by_their_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_batchnorm_momentum_none_still_works():
    bn = nn.BatchNorm1d(3, momentum=None)
    bn(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    assert int(bn.num_batches_tracked) == 1
