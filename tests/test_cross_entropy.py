"""CrossEntropyLoss: gradient check, PyTorch oracle (float64, < 1e-6), stability for huge
logits, and clear errors for bad targets."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.nn.cross_entropy import log_softmax, softmax
from minigan.kernels.layout import batch_first

pytestmark = pytest.mark.usefixtures("path")        # every check on the plain and the fast path

TOL = 1e-6
SHAPES = [(1, 2), (4, 3), (7, 10), (16, 5)]


def _case(rng, shape, device, scale=3.0, layout="nchw"):
    x = rng.standard_normal(shape) * scale
    if layout == "batch-last":  # logits as minigan's Linear returns them: a transposed view
        x = batch_first(np.ascontiguousarray(x.T))
    t = rng.integers(0, shape[1], shape[0])
    return mg.to_device(x, device), mg.to_device(t, device)


@pytest.mark.parametrize("layout", ["nchw", "batch-last"])
@pytest.mark.parametrize("shape", SHAPES)
def test_gradcheck(shape, layout, device, rng):
    x, t = _case(rng, shape, device, layout=layout)
    report = mg.gradcheck(nn.CrossEntropyLoss(), x, target=t)
    assert report.ok, str(report)
    # sharp, not just under the tolerance: the 4-point stencil leaves ~1e-8 of noise here
    assert max(report.errors.values()) < 1e-6, str(report)


@pytest.mark.parametrize("scale", [0.1, 3.0, 50.0])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.oracle
def test_matches_torch(shape, scale, device, rng):
    torch = pytest.importorskip("torch", reason="PyTorch is the test oracle: pip install torch==2.13.0")
    from torch_mirror import rel_err, tensor
    x, t = _case(rng, shape, device, scale, layout="batch-last")
    loss = nn.CrossEntropyLoss()
    value = loss(x, t)
    xt = tensor(x, requires_grad=True)
    value_t = torch.nn.functional.cross_entropy(xt, torch.tensor(mg.asnumpy(t)))
    value_t.backward()
    assert isinstance(value, float)
    assert abs(value - value_t.item()) <= TOL * abs(value_t.item())
    assert rel_err(loss.backward(), xt.grad) < TOL


def test_huge_logits_are_stable(device):
    x = mg.to_device(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=np.float32), device)
    t = mg.to_device(np.array([1, 0]), device)
    loss = nn.CrossEntropyLoss()
    assert loss(x, t) == pytest.approx((2e4 + 2e4 + np.log(2)) / 2, rel=1e-6)
    grad = mg.asnumpy(loss.backward())
    assert np.isfinite(grad).all() and grad.dtype == np.float32
    np.testing.assert_allclose(grad, [[0.5, -0.5, 0], [-0.5, 0.25, 0.25]], atol=1e-7)


def test_softmax_helpers(device, rng):
    x = mg.to_device(rng.standard_normal((5, 4)) * 100, device)
    p = mg.asnumpy(softmax(x))
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_allclose(np.exp(mg.asnumpy(log_softmax(x))), p, rtol=1e-12)


def test_perfect_prediction_has_tiny_loss_and_gradient(device):
    x = mg.to_device(np.eye(4) * 40, device)
    t = mg.to_device(np.arange(4), device)
    loss = nn.CrossEntropyLoss()
    assert loss(x, t) < 1e-15
    assert np.abs(mg.asnumpy(loss.backward())).max() < 1e-15


def test_integer_dtypes_and_whole_float_targets_accepted(device, rng):
    x, t = _case(rng, (6, 4), device)
    loss = nn.CrossEntropyLoss()
    ref = loss(x, t)
    for dtype in (np.int32, np.uint8, np.float64):
        assert loss(x, t.astype(dtype)) == ref


def test_bad_inputs(device):
    loss = nn.CrossEntropyLoss()
    x = mg.to_device(np.zeros((3, 4)), device)
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: expected target of shape \(3,\).*got \(3, 4\)"):
        loss(x, mg.to_device(np.zeros((3, 4), np.int64), device))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: expected 2-D logits \(N, classes\), got shape \(3,\)"):
        loss(mg.to_device(np.zeros(3), device), mg.to_device(np.zeros(3, np.int64), device))
    with pytest.raises(ValueError, match=r"class indices must be in \[0, 4\), got values in \[0, 4\]"):
        loss(x, mg.to_device(np.array([0, 4, 1]), device))
    with pytest.raises(ValueError, match=r"got values in \[-1, 1\]"):
        loss(x, mg.to_device(np.array([0, -1, 1]), device))
    with pytest.raises(TypeError, match=r"target must hold class indices \(integers\)"):
        loss(x, mg.to_device(np.array([0.5, 1, 1]), device))
    with pytest.raises(TypeError, match=r"input must be floating point, got dtype int64"):
        loss(mg.to_device(np.zeros((3, 4), np.int64), device), mg.to_device(np.zeros(3, np.int64), device))
    with pytest.raises(TypeError, match=r"CrossEntropyLoss: target must be a NumPy or CuPy array, got list"):
        loss(x, [0, 1, 2])
    with pytest.raises(ValueError, match=r"empty batch"):
        loss(mg.to_device(np.zeros((0, 4)), device), mg.to_device(np.zeros(0, np.int64), device))
    with pytest.raises(RuntimeError, match=r"CrossEntropyLoss.backward called before the loss was computed"):
        nn.CrossEntropyLoss().backward()


def test_gradcheck_catches_a_wrong_backward(device, rng):
    class Broken(nn.CrossEntropyLoss):
        def backward(self):
            return super().backward() * 1.01
    x, t = _case(rng, (4, 3), device)
    assert not mg.gradcheck(Broken(), x, target=t).ok


def test_trains_a_linear_classifier(device, rng):
    """End to end with Linear + SGD: the loss goes down on separable data."""
    centers = rng.standard_normal((3, 5)) * 4
    t = rng.integers(0, 3, 60)
    x = (centers[t] + rng.standard_normal((60, 5))).astype(np.float32)
    model = nn.Linear(5, 3).to(device)
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    loss = nn.CrossEntropyLoss()
    xd, td = mg.to_device(x, device), mg.to_device(t, device)
    first = loss(model(xd), td)
    for _ in range(50):
        opt.zero_grad()
        loss(model(xd), td)
        model.backward(loss.backward())
        opt.step()
    assert loss(model(xd), td) < 0.2 * first
