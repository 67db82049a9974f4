"""SpectralNorm and the hinge loss (issue 14): finite differences in float64 and PyTorch as the
oracle — forward, input and parameter gradients, the power iteration's u and v over several
steps, eval mode, state_dict names."""
import numpy as np
import pytest
try:
    import torch
    from torch.nn.utils import spectral_norm as torch_spectral_norm
except ImportError:                 # the oracle tests skip one by one (conftest.py)
    torch = None

import minigan as mg
from minigan import nn

pytestmark = pytest.mark.usefixtures("path")        # every check on the plain and the fast path

LAYERS = [
    ("conv", lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), lambda: torch.nn.Conv2d(3, 4, 3, 2, 1), (2, 3, 7, 7)),
    ("convT", lambda: nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1),
     lambda: torch.nn.ConvTranspose2d(3, 4, 4, 2, 1), (2, 3, 5, 5)),
    ("linear", lambda: nn.Linear(6, 3), lambda: torch.nn.Linear(6, 3), (4, 6)),
    ("linear-nobias", lambda: nn.Linear(6, 5, bias=False), lambda: torch.nn.Linear(6, 5, bias=False), (3, 6)),
]


@pytest.mark.parametrize("name,make,_,shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_spectral_norm_gradcheck(name, make, _, shape, rng):
    layer = nn.SpectralNorm(make()).double()
    layer.train()
    layer(rng.standard_normal(shape))                 # a few power-iteration steps first
    layer.eval()                                      # u, v fixed: the function differentiated
    report = mg.gradcheck(layer, rng.standard_normal(shape))
    assert report.ok, report
    assert "weight_orig" in report.errors


@pytest.mark.parametrize("name,make,make_torch,shape", LAYERS, ids=[c[0] for c in LAYERS])
@pytest.mark.oracle
def test_spectral_norm_matches_torch_over_steps(name, make, make_torch, shape, rng):
    torch.manual_seed(0)
    theirs = torch_spectral_norm(make_torch().double())
    ours = nn.SpectralNorm(make()).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())      # bias, weight_orig, _u, _v
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1)
    opt = mg.optim.SGD(ours.parameters(), lr=0.1)
    for step in range(4):                             # the weights move, u and v follow
        if step == 3:
            ours.eval()
            theirs.eval()
        x = rng.standard_normal(shape)
        xt = torch.tensor(x, requires_grad=True)
        yt = theirs(xt)
        dy = rng.standard_normal(tuple(yt.shape))
        opt_t.zero_grad()
        (yt * torch.tensor(dy)).sum().backward()
        opt.zero_grad()
        y = ours(x)
        dx = ours.backward(dy)
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        for k, p in ours.named_parameters():
            np.testing.assert_allclose(p.grad, dict(theirs.named_parameters())[k].grad.numpy(),
                                       rtol=1e-10, atol=1e-12)
        for k in ("weight_u", "weight_v"):
            np.testing.assert_allclose(getattr(ours, k), getattr(theirs, k).numpy(), rtol=1e-10, atol=1e-13)
        opt.step()
        opt_t.step()


def test_spectral_norm_bounds_the_largest_singular_value(rng):
    layer = nn.SpectralNorm(nn.Linear(20, 10))
    layer.weight_orig.data *= 7
    for _ in range(30):                               # power iteration converges over steps
        layer(rng.standard_normal((2, 20)).astype(np.float32))
    assert abs(np.linalg.svd(layer.layer.weight.data, compute_uv=False)[0] - 1) < 1e-3
    with pytest.raises(TypeError, match="SpectralNorm: expected a layer with a weight"):
        nn.SpectralNorm(nn.Tanh())


def hinge_targets(rng, n):
    return (rng.random((n, 1)) < 0.5).astype(np.float64)


@pytest.mark.parametrize("loss", [nn.HingeLoss(), nn.GeneratorHingeLoss()], ids=["D", "G"])
def test_hinge_losses_gradcheck(loss, rng):
    x = rng.uniform(-3, 3, (16, 1))
    x[np.abs(np.abs(x) - 1) < 1e-2] = 0.5             # stay off the kinks at ±1
    report = mg.gradcheck(loss, x, target=hinge_targets(rng, 16))
    assert report.ok, report


@pytest.mark.oracle
def test_hinge_losses_match_torch(rng):
    x = rng.uniform(-3, 3, (32, 1))
    t = hinge_targets(rng, 32)
    xt = torch.tensor(x, requires_grad=True)
    s = torch.tensor(2 * t - 1)
    expected = torch.relu(1 - s * xt).mean()          # Lim & Ye / Miyato et al.'s D loss
    expected.backward()
    ours = nn.HingeLoss()
    assert abs(ours(x, t) - expected.item()) < 1e-12
    np.testing.assert_allclose(ours.backward(), xt.grad.numpy(), atol=1e-15)
    xt.grad = None
    (-xt.mean()).backward()                           # G's: −mean D(G(z))
    g = nn.GeneratorHingeLoss()
    assert abs(g(x, np.ones_like(x)) + x.mean()) < 1e-12
    np.testing.assert_allclose(g.backward(), xt.grad.numpy(), atol=1e-15)
