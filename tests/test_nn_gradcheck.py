"""Every layer and loss passes a float64 finite-difference gradient check, and the check
itself fails when a backward is wrong."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn
from layer_cases import CASES, away_from_kinks

pytestmark = pytest.mark.usefixtures("path")        # every check on the plain and the fast path


def _noncontiguous(x):
    """The same values as ``x`` in a strided (every other element) array."""
    big = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), dtype=x.dtype)
    big[..., ::2] = x
    return big[..., ::2]


@pytest.mark.parametrize("case_id,factory,shape", CASES, ids=[c[0] for c in CASES])
def test_layer_gradcheck(case_id, factory, shape, device, rng):
    module = factory().double().to(device)
    x = away_from_kinks(rng.standard_normal(shape))
    report = mg.gradcheck(module, mg.to_device(x, device))
    assert report.ok, f"{case_id}\n{report}"
    assert set(report.errors) == {"input"} | {n for n, _ in module.named_parameters()}


@pytest.mark.parametrize("case_id,factory,shape",
                         [c for c in CASES if c[0] in ("conv-k3s2p1", "convT-k5s2p2op1", "linear", "bn2d-train")],
                         ids=lambda c: c if isinstance(c, str) else "")
def test_layer_gradcheck_noncontiguous_input(case_id, factory, shape, device, rng):
    module = factory().double().to(device)
    x = _noncontiguous(away_from_kinks(rng.standard_normal(shape)))
    assert not x.flags.c_contiguous
    report = mg.gradcheck(module, mg.to_device(x, device))
    assert report.ok, f"{case_id}\n{report}"


LOSSES = [
    ("bce-logits", nn.BCEWithLogitsLoss(), lambda r: 3 * r.standard_normal((5, 1)), lambda r: r.uniform(0, 1, (5, 1))),
    ("bce", nn.BCELoss(), lambda r: r.uniform(0.05, 0.95, (4, 3)), lambda r: (r.uniform(size=(4, 3)) > 0.5) * 1.0),
    ("mse", nn.MSELoss(), lambda r: r.standard_normal((3, 4)), lambda r: r.standard_normal((3, 4))),
]


@pytest.mark.parametrize("name,loss,make_x,make_t", LOSSES, ids=[case[0] for case in LOSSES])
def test_loss_gradcheck(name, loss, make_x, make_t, device, rng):
    x, t = mg.to_device(make_x(rng), device), mg.to_device(make_t(rng), device)
    report = mg.gradcheck(loss, x, target=t)
    assert report.ok, f"{name}\n{report}"


class _WrongInputGrad(nn.Linear):
    def backward(self, grad_output, need_input_grad=True):
        return super().backward(grad_output) * 1.01   # 1% too large


class _WrongWeightGrad(nn.Conv2d):
    def backward(self, grad_output, need_input_grad=True):
        before = self.weight.grad.copy()
        dx = super().backward(grad_output)
        self.weight.grad[...] = before + (self.weight.grad - before).transpose(0, 1, 3, 2)  # kernel transposed
        return dx


def test_gradcheck_fails_on_wrong_input_gradient(device, rng):
    module = _WrongInputGrad(4, 3).double().to(device)
    report = mg.gradcheck(module, mg.to_device(rng.standard_normal((2, 4)), device))
    assert not report.ok
    assert report.errors["input"] > 1e-3
    assert report.errors["weight"] < 1e-6 and report.errors["bias"] < 1e-6


def test_gradcheck_fails_on_wrong_parameter_gradient(device, rng):
    module = _WrongWeightGrad(2, 2, 3, padding=1).double().to(device)
    report = mg.gradcheck(module, mg.to_device(rng.standard_normal((2, 2, 4, 4)), device))
    assert not report.ok
    assert report.errors["weight"] > 1e-3
    assert report.errors["input"] < 1e-6
    assert "wrong" in str(report)


def test_gradcheck_fails_on_wrong_batchnorm_backward_with_random_projection(device, rng):
    """An all-ones upstream gradient would hide this bug (BatchNorm's true dx is then 0)."""
    class _NoMeanTerms(nn.BatchNorm1d):
        def backward(self, grad_output, need_input_grad=True):
            inv_std = self._get_cache()[1]                     # (C,) on both paths
            super().backward(grad_output)
            return grad_output * self.weight.data * inv_std       # forgets the batch terms
    report = mg.gradcheck(_NoMeanTerms(3).double().to(device), mg.to_device(rng.standard_normal((5, 3)), device))
    assert not report.ok and report.errors["input"] > 1e-3


def test_gradcheck_requires_float64(device, rng):
    with pytest.raises(TypeError, match=r"double\(\)"):
        mg.gradcheck(nn.Linear(2, 2).to(device), mg.to_device(rng.standard_normal((2, 2)), device))
