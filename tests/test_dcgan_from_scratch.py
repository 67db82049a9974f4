"""examples/dcgan_from_scratch.py is the flagship's recipe: the flagship's models, and its two
steps leave the same weights as minigan/gan/steps.py's (which GANTrainer runs) after N steps."""
import copy
import importlib.util
import os

import numpy as np

import minigan as mg
from minigan import gan, nn, optim
from minigan.gan import steps

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples",
                       "dcgan_from_scratch.py")


def example():
    spec = importlib.util.spec_from_file_location("example_dcgan_from_scratch", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_its_models_are_the_flagships():
    ex = example()
    mg.seed(5)
    G, D = ex.build_models()
    mg.seed(5)
    G2, D2 = gan.dcgan28_generator(), gan.dcgan28_discriminator()
    for mine, theirs in ((G, G2), (D, D2)):
        a, b = mine.state_dict(), theirs.state_dict()
        assert list(a) == list(b)
        assert all(np.array_equal(a[k], b[k]) for k in a)


def test_its_two_steps_equal_minigan_gan_steps():
    ex = example()
    mg.seed(1)
    G, D = ex.build_models()
    rng = np.random.default_rng(0)
    B, n = 4, 3
    reals = rng.uniform(-1, 1, (n, B, 1, 28, 28)).astype(np.float32)
    zs = rng.standard_normal((n, B, 100)).astype(np.float32)
    ones, zeros = np.ones((B, 1), np.float32), np.zeros((B, 1), np.float32)

    def train(use_example):
        g, d = copy.deepcopy(G), copy.deepcopy(D)
        opt_g, opt_d = (optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)) for m in (g, d))
        bce = nn.BCEWithLogitsLoss()
        mg.seed(9)                                   # the same Dropout masks in both runs
        losses = []
        for real, z in zip(reals, zs):
            fake = g(z)
            if use_example:
                losses.append((ex.discriminator_step(d, opt_d, bce, real, fake, ones, zeros),
                               ex.generator_step(g, d, opt_g, bce, fake, ones)))
            else:
                dl = steps.discriminator_step(d, opt_d, bce, "bce_logits", real, fake, ones, zeros)
                gl = steps.generator_step(g, d, opt_g, bce, fake)
                losses.append((dl["loss_D"], gl["loss_G"]))
        return g, d, losses

    g1, d1, l1 = train(True)
    g2, d2, l2 = train(False)
    np.testing.assert_allclose(l1, l2, rtol=1e-6)
    for a, b in ((g1, g2), (d1, d2)):
        sa, sb = a.state_dict(), b.state_dict()
        for k in sa:
            np.testing.assert_array_equal(sa[k], sb[k], err_msg=k)
    assert not np.array_equal(g1.state_dict()["0.weight"], G.state_dict()["0.weight"])   # it trained
