"""Model builders: shapes, the flagship's fixed layer order, the registry, and the trainer's
step against the same step written in PyTorch (float64)."""
import numpy as np
import pytest

import minigan as mg
from minigan import gan, nn


def _out(model, x):
    return model.eval()(x.astype(np.float32))


def test_flagship_layer_order_is_fixed():
    G, D = gan.dcgan28_generator(), gan.dcgan28_discriminator()
    assert [type(m).__name__ for m in G] == [
        "Linear", "BatchNorm1d", "LeakyReLU", "Reshape", "ConvTranspose2d", "BatchNorm2d",
        "LeakyReLU", "ConvTranspose2d", "BatchNorm2d", "LeakyReLU", "ConvTranspose2d", "Tanh"]
    assert [type(m).__name__ for m in D] == [
        "Conv2d", "LeakyReLU", "Dropout", "Conv2d", "LeakyReLU", "Dropout", "Flatten", "Linear"]
    assert G[0].bias is None and G[4].bias is None and G[7].bias is None and G[10].bias is None
    assert (G[4].kernel_size, G[4].stride, G[4].padding) == ((5, 5), (1, 1), (2, 2))
    assert (G[7].stride, G[7].output_padding) == ((2, 2), (1, 1))
    assert D[2].p == 0.3 and D[1].negative_slope == 0.2
    assert list(G.state_dict())[:5] == ["0.weight", "1.weight", "1.bias", "1.running_mean",
                                        "1.running_var"]


def test_flagship_shapes_and_dcgan_init():
    mg.seed(0)
    G, D = gan.dcgan28_generator(), gan.dcgan28_discriminator()
    z = np.random.default_rng(0).standard_normal((3, 100))
    img = _out(G, z)
    assert img.shape == (3, 1, 28, 28) and np.abs(img).max() <= 1
    assert _out(D, img).shape == (3, 1)
    w = mg.asnumpy(G[0].weight.data)
    assert abs(w.std() - 0.02) < 0.002                     # DCGAN init N(0, 0.02²)
    assert np.all(mg.asnumpy(D[0].bias.data) == 0)


@pytest.mark.parametrize("size", [8, 16, 32, 64])
def test_dcgan_any_power_of_two(size):
    G = gan.dcgan_generator(z_dim=5, nc=3, ngf=4, image_size=size)
    D = gan.dcgan_discriminator(nc=3, ndf=4, image_size=size)
    img = _out(G, np.ones((2, 5)))
    assert img.shape == (2, 3, size, size)
    assert _out(D, img).shape == (2, 1)


@pytest.mark.parametrize("size", [0, 4, 12, 58])
def test_dcgan_rejects_other_sizes(size):
    with pytest.raises(ValueError, match="4·2"):
        gan.dcgan_generator(image_size=size)


def test_tutorial_models():
    x = np.random.default_rng(0).random((2, 1, 28, 28))
    for variant in ("fixed", "collapse"):
        G = gan.mnist_mlp_generator(variant=variant)
        D = gan.mnist_mlp_discriminator(variant=variant)
        img = _out(G, np.ones((2, 100)))
        assert img.shape == (2, 1, 28, 28) and 0 <= img.min() and img.max() <= 1
        p = _out(D, x)
        assert p.shape == (2, 1) and np.all((p > 0) & (p < 1))
    assert any(isinstance(m, nn.LayerNorm) for m in gan.mnist_mlp_discriminator())
    assert not any(isinstance(m, nn.LayerNorm) for m in gan.mnist_mlp_discriminator("collapse"))
    assert gan.knet_hidden_size(58) == 2243
    G = gan.knet_mlp_generator(z_dim=7, size=10)
    assert G[0].out_features == gan.knet_hidden_size(10) == 67
    assert _out(G, np.ones((2, 7))).shape == (2, 1, 10, 10)
    assert _out(gan.knet_mlp_discriminator(size=10), np.ones((2, 1, 10, 10))).shape == (2, 1)
    assert _out(gan.pattern_generator(), np.ones((3, 4))).shape == (3, 4)
    assert gan.one_parameter_generator(0.1)[0].weight.data.item() == pytest.approx(0.1)


def test_registry_rebuilds_the_same_weights():
    spec = {"builder": "dcgan_generator", "kwargs": {"z_dim": 3, "nc": 1, "ngf": 2, "image_size": 8}}
    mg.seed(5)
    a = gan.build_model(spec)
    mg.seed(5)
    b = gan.build_model(spec)
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert np.array_equal(va, vb), k
    with pytest.raises(ValueError, match="unknown model builder"):
        gan.build_model("nope")


@pytest.mark.oracle
def test_trainer_step_matches_pytorch():
    """Three GANTrainer steps (flagship models, no dropout, float64) == the same three steps in
    PyTorch: fake once, D on real then fake (detached), D step, G step through the updated D."""
    torch = pytest.importorskip("torch")
    from torch_mirror import mirror, rel_err
    mg.seed(0)
    G = gan.dcgan28_generator(z_dim=16).double()
    D = gan.dcgan28_discriminator(dropout=0.0).double()
    tG, tD = mirror(G), mirror(D)
    data = np.tanh(np.random.default_rng(1).standard_normal((24, 1, 28, 28)))
    cfg = gan.TrainConfig(z_dim=16, batch_size=8, epochs=1, max_steps=3, lr_g=1e-3, lr_d=2e-3,
                          betas_g=(0.5, 0.999), betas_d=(0.6, 0.99))
    trainer = gan.GANTrainer(G, D, cfg, data=data, quiet=True, progress=False)
    opt_g = torch.optim.Adam(tG.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(tD.parameters(), lr=2e-3, betas=(0.6, 0.99))
    bce = torch.nn.BCEWithLogitsLoss()
    trainer.perm = trainer.rng.permutation(24)
    for pos in range(3):
        stats = trainer.train_step(trainer._real_batch(pos))
        real = torch.tensor(mg.asnumpy(trainer.last["real"]))
        z = torch.tensor(mg.asnumpy(trainer.last["z"]))
        fake = tG(z)
        opt_d.zero_grad()
        out_r, out_f = tD(real), tD(fake.detach())
        loss_d = bce(out_r, torch.ones_like(out_r)) + bce(out_f, torch.zeros_like(out_f))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        out = tD(fake)
        loss_g = bce(out, torch.ones_like(out))
        loss_g.backward()
        opt_g.step()
        assert stats["loss_D"] == pytest.approx(loss_d.item(), rel=1e-9)
        assert stats["loss_G"] == pytest.approx(loss_g.item(), rel=1e-9)
        assert stats["D_x"] == pytest.approx(torch.sigmoid(out_r).mean().item(), rel=1e-9)
    for mine, theirs in ((G, tG), (D, tD)):
        t_state = theirs.state_dict()
        for name, value in mine.state_dict().items():
            assert rel_err(value, t_state[name]) < 1e-6, name
