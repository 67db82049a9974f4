"""Frozen parameters (requires_grad False): backward leaves their .grad alone and still returns
the same input gradient; optimizers skip them; the GAN's G step freezes D only while it runs."""
import copy

import numpy as np
import pytest

import minigan as mg
from minigan import nn, optim
from minigan.gan.steps import frozen, generator_step

pytestmark = pytest.mark.usefixtures("path")        # every check on the plain and the fast path

LAYERS = {
    "Linear": (lambda: nn.Linear(5, 3), (4, 5)),
    "Conv2d": (lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 8, 8)),
    "Conv2d 5x5 pad 2 on 7x7": (lambda: nn.Conv2d(6, 4, 5, padding=2), (3, 6, 7, 7)),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1), (2, 4, 5, 5)),
    "ConvTranspose2d 5x5 pad 2 on 7x7": (lambda: nn.ConvTranspose2d(8, 4, 5, padding=2), (3, 8, 7, 7)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(6), (5, 6)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), (4, 3, 5, 5)),
    "LayerNorm": (lambda: nn.LayerNorm(6), (4, 6)),
    "SpectralNorm(Conv2d)": (lambda: nn.SpectralNorm(nn.Conv2d(3, 4, 3, padding=1)), (2, 3, 6, 6)),
    "SpectralNorm(Linear)": (lambda: nn.SpectralNorm(nn.Linear(5, 3)), (4, 5)),
}


def forward_backward(layer, x, dy_seed=1):
    y = layer(x)
    dy = np.random.default_rng(dy_seed).standard_normal(y.shape).astype(y.dtype)
    return layer.backward(dy)


@pytest.mark.parametrize("name", list(LAYERS))
def test_a_frozen_layer_adds_no_gradient_and_passes_the_same_input_gradient(name):
    make, shape = LAYERS[name]
    mg.seed(0)
    layer = make()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    twin = copy.deepcopy(layer)
    dx_ref = forward_backward(layer, x)
    assert any(np.any(p.grad != 0) for p in layer.parameters())       # the unfrozen run had some

    for p in twin.parameters():
        p.grad[...] = 7.0                                              # whatever was there stays
    assert twin.requires_grad_(False) is twin
    dx = forward_backward(twin, x)
    np.testing.assert_array_equal(dx, dx_ref)
    for p in twin.parameters():
        assert not p.requires_grad
        np.testing.assert_array_equal(p.grad, 7.0)

    twin.requires_grad_(True)                                          # unfrozen: adds again
    forward_backward(twin, x)
    for pname, p in twin.named_parameters():
        assert np.any(p.grad != 7.0), pname


def test_freezing_only_the_weight_keeps_the_bias_gradient():
    mg.seed(0)
    layer = nn.Conv2d(3, 4, 3, padding=1)
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    layer.weight.requires_grad = False
    forward_backward(layer, x)
    np.testing.assert_array_equal(layer.weight.grad, 0)
    assert np.any(layer.bias.grad != 0)


@pytest.mark.parametrize("make", [lambda ps: optim.Adam(ps, lr=0.1, betas=(0.5, 0.999)),
                                  lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9)],
                         ids=["Adam", "SGD"])
def test_optimizers_skip_frozen_parameters(make):
    mg.seed(0)
    model, reference = nn.Linear(4, 3), None
    reference = copy.deepcopy(model)
    opt = make(model.parameters())
    ref_opt = make([reference.bias])                                   # the bias alone
    model.weight.requires_grad = False
    w0 = model.weight.data.copy()
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    for _ in range(3):
        for m, o in ((model, opt), (reference, ref_opt)):
            o.zero_grad()
            m.weight.grad[...] = 1.0                                   # a stale gradient: ignored
            forward_backward(m, x)
            o.step()
    np.testing.assert_array_equal(model.weight.data, w0)
    np.testing.assert_array_equal(model.bias.data, reference.bias.data)
    assert 0 not in opt.state                                          # no state for the weight


def small_gan():
    mg.seed(3)
    G = nn.Sequential(nn.Linear(4, 12), nn.BatchNorm1d(12), nn.ReLU(), nn.Linear(12, 6), nn.Tanh())
    D = nn.Sequential(nn.SpectralNorm(nn.Linear(6, 8)), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    return G, D


def test_the_generator_step_freezes_the_discriminator_only_while_it_runs():
    G, D = small_gan()
    D[2].bias.requires_grad = False                                    # the user's own choice
    z = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    for p in D.parameters():
        p.grad[...] = 3.0
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    D_ref.requires_grad_(True)

    generator_step(G, D, optim.Adam(G.parameters(), lr=1e-3), nn.BCEWithLogitsLoss(), G(z))
    for p in D.parameters():
        np.testing.assert_array_equal(p.grad, 3.0)                     # D's gradients untouched
    assert {n: p.requires_grad for n, p in D.named_parameters()} == {
        "0.weight_orig": True, "0.bias": True, "2.weight": True, "2.bias": False}

    # G's update is the one an unfrozen D gives
    generator_step(G_ref, D_ref, optim.Adam(G_ref.parameters(), lr=1e-3), nn.BCEWithLogitsLoss(), G_ref(z))
    for (name, p), q in zip(G.named_parameters(), G_ref.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)


def test_frozen_restores_each_flag_when_the_block_raises():
    _, D = small_gan()
    D[0].bias.requires_grad = False
    with pytest.raises(RuntimeError, match="inside"):
        with frozen(D):
            assert not any(p.requires_grad for p in D.parameters())
            raise RuntimeError("inside")
    assert {n: p.requires_grad for n, p in D.named_parameters()} == {
        "0.weight_orig": True, "0.bias": False, "2.weight": True, "2.bias": True}
