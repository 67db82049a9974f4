"""PyTorch as an independent oracle: forward, input gradient and every parameter gradient of
every layer, BatchNorm running statistics, SGD/Adam over several steps, state_dict interop, and
full DCGAN training steps — all in float64, relative error < 1e-6."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn
from layer_cases import CASES, away_from_kinks

from torch_mirror import mirror, rel_err, tensor

try:
    import torch
except ImportError:                 # each test here skips (conftest.py: the "oracle" marker)
    torch = None

TOL = 1e-6
# every test compares with PyTorch, on the plain and on the fast path
pytestmark = [pytest.mark.oracle, pytest.mark.usefixtures("path")]


def _compare_layer(module, x, dy):
    t_module = mirror(module)
    y = module(x)
    xt = tensor(x, requires_grad=True)
    yt = t_module(xt)
    assert rel_err(y, yt) < TOL, "forward"
    dx = module.backward(dy)
    yt.backward(tensor(dy))
    assert rel_err(dx, xt.grad) < TOL, "input gradient"
    t_params = dict(t_module.named_parameters())
    for name, p in module.named_parameters():
        assert rel_err(p.grad, t_params[name].grad) < TOL, f"gradient of {name}"
    t_state = t_module.state_dict()
    for name, value in module.state_dict().items():
        assert rel_err(value, t_state[name]) < TOL, f"state {name}"


@pytest.mark.parametrize("case_id,factory,shape", CASES, ids=[c[0] for c in CASES])
def test_layer_matches_torch(case_id, factory, shape, device, rng):
    module = factory().double().to(device)
    x = mg.to_device(away_from_kinks(rng.standard_normal(shape)), device)
    y = module(x)
    dy = mg.to_device(rng.standard_normal(y.shape), device)
    _compare_layer(module, x, dy)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_conv_random_shapes_match_torch(seed, device):
    r = np.random.default_rng(seed)
    for _ in range(4):
        cin, cout = r.integers(1, 5, 2)
        k = tuple(r.integers(1, 5, 2))
        s = tuple(r.integers(1, 4, 2))
        p = tuple(int(r.integers(0, kk)) for kk in k)
        h, w = (int(r.integers(kk, kk + 6)) for kk in k)
        conv = nn.Conv2d(cin, cout, k, s, p, bias=bool(r.integers(2))).double().to(device)
        x = mg.to_device(r.standard_normal((int(r.integers(1, 4)), cin, h, w)), device)
        _compare_layer(conv, x, mg.to_device(r.standard_normal(conv(x).shape), device))
        op = tuple(int(r.integers(0, ss)) for ss in s)
        convt = nn.ConvTranspose2d(cin, cout, k, s, p, op, bias=bool(r.integers(2))).double().to(device)
        x = mg.to_device(r.standard_normal((2, cin, int(r.integers(2, 5)), int(r.integers(2, 5)))), device)
        try:
            out = convt(x)
        except ValueError:
            continue  # empty output for this random combination
        _compare_layer(convt, x, mg.to_device(r.standard_normal(out.shape), device))


@pytest.mark.parametrize("cls,shape", [(nn.BatchNorm1d, (8, 5)), (nn.BatchNorm2d, (4, 5, 3, 3))])
@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
def test_batchnorm_running_stats_over_steps_match_torch(cls, shape, momentum, device, rng):
    bn = cls(5, momentum=momentum).double().to(device)
    tbn = mirror(bn)
    for _ in range(4):
        x = rng.standard_normal(shape) * 3 + 1
        bn(mg.to_device(x, device))
        tbn(tensor(x))
    for name, value in tbn.state_dict().items():
        assert rel_err(bn.state_dict()[name], value) < TOL, name
    bn.eval(), tbn.eval()
    x = rng.standard_normal(shape)
    assert rel_err(bn(mg.to_device(x, device)), tbn(tensor(x))) < TOL


@pytest.mark.parametrize("name,make,make_torch", [
    ("sgd", lambda ps: mg.optim.SGD(ps, lr=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
    ("sgd-momentum-wd", lambda ps: mg.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01),
     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01)),
    ("sgd-nesterov", lambda ps: mg.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True),
     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True)),
    ("adam", lambda ps: mg.optim.Adam(ps, lr=1e-2), lambda ps: torch.optim.Adam(ps, lr=1e-2)),
    ("adam-dcgan-wd", lambda ps: mg.optim.Adam(ps, lr=2e-4, betas=(0.5, 0.999), weight_decay=0.1),
     lambda ps: torch.optim.Adam(ps, lr=2e-4, betas=(0.5, 0.999), weight_decay=0.1)),
])
def test_optimizer_steps_match_torch(name, make, make_torch, device, rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double().to(device)
    t_model = mirror(model)
    opt, t_opt = make(model.parameters()), make_torch(t_model.parameters())
    t_params = dict(t_model.named_parameters())
    for step in range(6):
        for (pname, p) in model.named_parameters():
            g = rng.standard_normal(p.shape)
            p.grad[...] = mg.to_device(g, device)
            t_params[pname].grad = torch.tensor(g)
        opt.step()
        t_opt.step()
        if step == 2:  # state_dict round trip mid-way: a fresh optimizer continues identically
            fresh = make(model.parameters())
            fresh.load_state_dict(opt.state_dict())
            opt = fresh
    for pname, p in model.named_parameters():
        assert rel_err(p.data, t_params[pname]) < TOL, pname


def test_optimizer_state_dict_layout_matches_torch(rng):
    model = nn.Linear(3, 2).double()
    t_model = mirror(model)
    opt, t_opt = mg.optim.Adam(model.parameters(), lr=0.1), torch.optim.Adam(t_model.parameters(), lr=0.1)
    for p, tp in zip(model.parameters(), t_model.parameters()):
        g = rng.standard_normal(p.shape)
        p.grad[...] = g
        tp.grad = torch.tensor(g)
    opt.step(), t_opt.step()
    ours, theirs = opt.state_dict(), t_opt.state_dict()
    assert ours["state"].keys() == theirs["state"].keys()
    for i in theirs["state"]:
        assert set(ours["state"][i]) == set(theirs["state"][i])
        assert rel_err(ours["state"][i]["exp_avg_sq"], theirs["state"][i]["exp_avg_sq"]) < TOL
    assert ours["param_groups"][0]["params"] == theirs["param_groups"][0]["params"]
    # and torch's state (converted to numpy) loads into minigan
    converted = {"state": {i: {k: v.numpy() for k, v in s.items()} for i, s in theirs["state"].items()},
                 "param_groups": theirs["param_groups"]}
    fresh = mg.optim.Adam(model.parameters(), lr=0.1)
    fresh.load_state_dict(converted)
    assert fresh.state[0]["step"] == 1


def test_torch_state_dict_loads_into_minigan(rng):
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                          nn.Linear(3 * 4 * 4, 2))
    t_model = mirror(model)
    for p in t_model.parameters():
        torch.nn.init.normal_(p)
    t_model(torch.randn(5, 1, 4, 4))  # move the running stats
    model.load_state_dict({k: v.numpy() for k, v in t_model.state_dict().items()})
    model.eval(), t_model.eval()
    x = rng.standard_normal((2, 1, 4, 4)).astype(np.float32)
    y = model(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, t_model(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


def _small_dcgan(z_dim=8, c=4):
    """The flagship DCGAN's exact structure (examples/mnist_dcgan.py) with fewer channels."""
    G = nn.Sequential(
        nn.Linear(z_dim, 7 * 7 * 4 * c, bias=False), nn.BatchNorm1d(7 * 7 * 4 * c), nn.LeakyReLU(0.2),
        nn.Reshape(4 * c, 7, 7),
        nn.ConvTranspose2d(4 * c, 2 * c, 5, stride=1, padding=2, bias=False), nn.BatchNorm2d(2 * c), nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(2 * c, c, 5, stride=2, padding=2, output_padding=1, bias=False),
        nn.BatchNorm2d(c), nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(c, 1, 5, stride=2, padding=2, output_padding=1, bias=False), nn.Tanh())
    D = nn.Sequential(
        nn.Conv2d(1, c, 5, stride=2, padding=2), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Conv2d(c, 2 * c, 5, stride=2, padding=2), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(7 * 7 * 2 * c, 1))
    return nn.init.dcgan_init(G), nn.init.dcgan_init(D)


def test_dcgan_training_steps_match_torch(rng):
    """Three full GAN steps: D on a real then a fake batch (gradients accumulate), one D
    step; then G through D with the non-saturating loss. Same losses, same weights.
    Each torch D forward runs right after minigan's, replaying the dropout mask it drew."""
    G, D = (m.double() for m in _small_dcgan())
    tG, tD = mirror(G), mirror(D)
    loss, t_loss = nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss()
    opt_g = mg.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = mg.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    t_opt_g = torch.optim.Adam(tG.parameters(), lr=2e-3, betas=(0.5, 0.999))
    t_opt_d = torch.optim.Adam(tD.parameters(), lr=2e-3, betas=(0.5, 0.999))
    n = 6
    ones, zeros = np.ones((n, 1)), np.zeros((n, 1))
    for step in range(3):
        real = np.tanh(rng.standard_normal((n, 1, 28, 28)))
        z = rng.standard_normal((n, 8))
        fake, t_fake = G(z), tG(tensor(z))
        # discriminator: real batch, then fake batch, gradients accumulate, one step
        opt_d.zero_grad(), t_opt_d.zero_grad()
        l_real, tl_real = loss(D(real), ones), t_loss(tD(tensor(real)), tensor(ones))
        D.backward(loss.backward()), tl_real.backward()
        l_fake, tl_fake = loss(D(fake), zeros), t_loss(tD(t_fake.detach()), tensor(zeros))
        D.backward(loss.backward()), tl_fake.backward()
        opt_d.step(), t_opt_d.step()
        # generator: non-saturating loss through the updated D
        opt_g.zero_grad(), opt_d.zero_grad(), t_opt_g.zero_grad(), t_opt_d.zero_grad()
        l_gen, tl_gen = loss(D(fake), ones), t_loss(tD(t_fake), tensor(ones))
        G.backward(D.backward(loss.backward())), tl_gen.backward()
        opt_g.step(), t_opt_g.step()
        for ours, theirs in ((l_real, tl_real), (l_fake, tl_fake), (l_gen, tl_gen)):
            assert abs(ours - theirs.item()) <= TOL * abs(theirs.item()), (step, ours, theirs.item())
    for model, t_model in ((G, tG), (D, tD)):
        t_state = t_model.state_dict()
        for name, value in model.state_dict().items():
            assert rel_err(value, t_state[name]) < TOL, name


def test_losses_at_extremes_match_torch():
    """Logits of ±1e4 stay finite in BCEWithLogits; probabilities of exactly 0 and 1 are
    clamped in BCE like PyTorch's (log clamped at -100, gradient denominator at 1e-12)."""
    logits = np.array([[1e4], [-1e4], [0.0], [30.0], [-30.0]])
    targets = np.array([[0.0], [1.0], [0.5], [1.0], [0.0]])
    probs = np.array([[1.0], [0.0], [0.5], [1e-30], [1 - 1e-12]])
    for ours, theirs, x in ((nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(), logits),
                            (nn.BCELoss(), torch.nn.BCELoss(), probs)):
        value = ours(x, targets)
        xt = tensor(x, requires_grad=True)
        t_value = theirs(xt, tensor(targets))
        t_value.backward()
        assert np.isfinite(value) and abs(value - t_value.item()) <= TOL * abs(t_value.item())
        assert rel_err(ours.backward(), xt.grad) < TOL
