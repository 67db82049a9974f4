"""The Module contract: names, state, accumulation, modes, dtype and device handling."""
import copy

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.nn.im2col import col2im, im2col
from layer_cases import CASES, away_from_kinks


@pytest.mark.parametrize("case_id,factory,shape", CASES, ids=[c[0] for c in CASES])
def test_float32_stays_float32(case_id, factory, shape, device, rng):
    module = factory().to(device)
    x = mg.to_device(away_from_kinks(rng.standard_normal(shape)).astype(np.float32), device)
    y = module(x)
    assert y.dtype == np.float32, "forward upcast"
    dx = module.backward(mg.to_device(rng.standard_normal(y.shape).astype(np.float32), device))
    assert dx.dtype == np.float32, "backward upcast"
    for name, p in module.named_parameters():
        assert p.data.dtype == p.grad.dtype == np.float32, name
    for name, b in module.named_buffers():
        assert b.dtype in (np.float32, np.int64), name


def test_losses_and_optimizers_keep_float32(device, rng):
    x = mg.to_device(rng.standard_normal((4, 1)).astype(np.float32), device)
    t = mg.to_device(np.ones((4, 1), np.float32), device)
    for loss in (nn.BCEWithLogitsLoss(), nn.MSELoss()):
        assert isinstance(loss(x, t), float)
        assert loss.backward().dtype == np.float32
    model = nn.Linear(3, 2).to(device)
    for opt in (mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1),
                mg.optim.Adam(model.parameters(), weight_decay=0.1)):
        model.weight.grad[...] = 1.0
        opt.step()
        assert model.weight.data.dtype == np.float32


def test_names_match_pytorch_conventions():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Sequential(nn.Flatten(), nn.Linear(8, 1)))
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias",
                                                        "2.1.weight", "2.1.bias"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                        "1.running_var", "1.num_batches_tracked", "2.1.weight", "2.1.bias"]
    assert model[0].weight.shape == (2, 1, 3, 3)
    assert nn.ConvTranspose2d(4, 3, (5, 2)).weight.shape == (4, 3, 5, 2)
    assert nn.Linear(4, 3).weight.shape == (3, 4)
    assert "Conv2d(1, 2, kernel_size=(3, 3)" in repr(model)


def test_gradients_accumulate_until_zero_grad(rng):
    lin = nn.Linear(3, 2).double()
    x1, x2 = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    dy1, dy2 = rng.standard_normal((4, 2)), rng.standard_normal((5, 2))
    lin(x1), lin.backward(dy1)
    g1 = lin.weight.grad.copy()
    lin(x2), lin.backward(dy2)
    np.testing.assert_allclose(lin.weight.grad, g1 + dy2.T @ x2)
    lin.zero_grad()
    assert not lin.weight.grad.any()


def test_incoming_gradient_is_never_modified(rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.1), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Tanh())
    model(rng.standard_normal((5, 3)).astype(np.float32))
    dy = rng.standard_normal((5, 4)).astype(np.float32)
    keep = dy.copy()
    model.backward(dy)
    np.testing.assert_array_equal(dy, keep)


def test_train_eval_modes(rng):
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5), nn.BatchNorm1d(3))
    x = rng.standard_normal((6, 3)).astype(np.float32)
    model.eval()
    assert not any(m.training for m in model.modules())
    np.testing.assert_array_equal(model(x), model(x))           # deterministic in eval
    assert int(model[2].num_batches_tracked) == 0               # eval leaves stats alone
    model.train()
    model(x)
    assert int(model[2].num_batches_tracked) == 1


def test_dropout_is_inverted_and_reproducible(rng):
    x = np.ones((200, 50), np.float32)
    mg.seed(3)
    y1 = nn.Dropout(0.3)(x)
    mg.seed(3)
    y2 = nn.Dropout(0.3)(x)
    np.testing.assert_array_equal(y1, y2)
    assert set(np.unique(y1)) <= {0.0, np.float32(1 / 0.7)}
    assert abs(y1.mean() - 1.0) < 0.03 and abs((y1 == 0).mean() - 0.3) < 0.02


def test_to_double_and_back(rng):
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    assert model.double() is model and model.dtype == np.float64
    assert model[1].running_mean.dtype == np.float64 and model[1].num_batches_tracked.dtype == np.int64
    model.to(dtype=np.float32)
    assert model.dtype == np.float32 and model[0].weight.grad.dtype == np.float32
    assert model.to("cpu").device == "cpu"


def test_seed_makes_initialisation_reproducible():
    mg.seed(42)
    a = nn.Conv2d(2, 3, 3).weight.data.copy()
    mg.seed(42)
    np.testing.assert_array_equal(a, nn.Conv2d(2, 3, 3).weight.data)
    assert not np.array_equal(a, nn.Conv2d(2, 3, 3).weight.data)


def test_default_init_bounds_follow_pytorch():
    bound = 1 / np.sqrt(3 * 5 * 5)
    w = nn.Conv2d(3, 64, 5).weight.data
    assert w.min() >= -bound and w.max() <= bound and w.max() > 0.9 * bound
    convt = nn.ConvTranspose2d(64, 3, 4)                       # PyTorch: fan_in = Cout·kh·kw
    assert np.abs(convt.weight.data).max() <= 1 / np.sqrt(3 * 16)
    g = nn.init.dcgan_init(nn.Sequential(nn.Conv2d(3, 64, 4), nn.BatchNorm2d(64)))
    assert abs(g[0].weight.data.std() - 0.02) < 0.003 and not g[0].bias.data.any()
    assert abs(g[1].weight.data.mean() - 1.0) < 0.01


def test_xavier_init():
    m = nn.init.xavier_init(nn.Sequential(nn.Linear(100, 200)))
    a = np.sqrt(6 / 300)
    assert np.abs(m[0].weight.data).max() <= a and m[0].weight.data.std() > 0.5 * a / np.sqrt(3)


def _im2col_reference(x, k, s, p, out_hw):
    """Plain loops over every output pixel: the definition im2col must match."""
    C, H, W, N = x.shape
    xp_ = np.pad(x, ((0, 0), (p[0], p[0]), (p[1], p[1]), (0, 0)))
    cols = np.zeros((C, k[0], k[1], out_hw[0], out_hw[1], N), x.dtype)
    for oh in range(out_hw[0]):
        for ow in range(out_hw[1]):
            cols[:, :, :, oh, ow, :] = xp_[:, oh * s[0]:oh * s[0] + k[0], ow * s[1]:ow * s[1] + k[1], :]
    return cols.reshape(C * k[0] * k[1], -1)


@pytest.mark.parametrize("k,s,p,hw", [((3, 3), (1, 1), (0, 0), (5, 5)), ((5, 5), (2, 2), (2, 2), (7, 8)),
                                      ((3, 2), (2, 1), (1, 0), (6, 5)), ((4, 4), (3, 3), (1, 1), (9, 9))])
def test_im2col_matches_reference_and_col2im_is_its_adjoint(k, s, p, hw, device, rng, path):
    x = rng.standard_normal((2, hw[0], hw[1], 3))
    out_hw = tuple((n + 2 * pp - kk) // ss + 1 for n, pp, kk, ss in zip(hw, p, k, s))
    cols = mg.asnumpy(im2col(mg.to_device(x, device), k, s, p, out_hw))
    np.testing.assert_array_equal(cols, _im2col_reference(x, k, s, p, out_hw))
    c = rng.standard_normal(cols.shape)
    back = mg.asnumpy(col2im(mg.to_device(c, device), 2, hw, k, s, p, out_hw))
    # <im2col(x), c> == <x, col2im(c)>: col2im is exactly im2col's transpose
    np.testing.assert_allclose((cols * c).sum(), (x * back).sum(), rtol=1e-12)


def test_backend_helpers():
    x = np.arange(6.0)
    assert mg.get_array_module(x) is np
    assert mg.asnumpy(x) is x or np.array_equal(mg.asnumpy(x), x)
    assert mg.to_device(x, "cpu") is x
    assert isinstance(mg.cuda_available(), bool)


def _model_for_backend_comparison():
    return nn.Sequential(nn.Conv2d(1, 8, 5, stride=2, padding=2), nn.BatchNorm2d(8), nn.LeakyReLU(0.2),
                         nn.ConvTranspose2d(8, 4, 5, stride=2, padding=2, output_padding=1), nn.Tanh())


def _rounding_scales(model, x, dy):
    """For each result of forward + backward of ``model`` (a Sequential), the size of the
    terms that float32 rounding acts on: a result computed as Σ aᵢ·bᵢ is off by ~ε·Σ|aᵢ·bᵢ|,
    however small the sum itself is. Computed in float64 on the CPU: every GEMM layer is run
    again on absolute values (|W|, |x|, |dy|), which turns each of its sums into Σ|aᵢ·bᵢ|;
    for BatchNorm the same bounds are written out; elementwise layers pass |dy| on.
    Returns [y, dx, grad of each parameter] scales (one number each)."""
    ref = copy.deepcopy(model).double()
    inputs, grads = {}, {}
    for layer in ref:
        def forward(a, layer=layer, f=layer.forward):
            inputs[id(layer)] = a
            return f(a)

        def backward(g, *args, layer=layer, b=layer.backward, **kw):
            grads[id(layer)] = g
            return b(g, *args, **kw)
        object.__setattr__(layer, "forward", forward)
        object.__setattr__(layer, "backward", backward)
    y = ref(x.astype(np.float64))
    ref.backward(dy.astype(np.float64))
    dx_scale = None
    param_scales = []
    for layer in ref:
        a, g = np.abs(inputs[id(layer)]), np.abs(grads[id(layer)])
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            twin = copy.deepcopy(layer)
            for p in twin.parameters():
                p.data[...] = np.abs(p.data)
                p.grad[...] = 0
            type(twin).forward(twin, a)
            d = type(twin).backward(twin, g)
            scales = [float(p.grad.max()) for p in twin.parameters()]
        elif isinstance(layer, nn.BatchNorm2d):
            xs = inputs[id(layer)]
            mean = xs.mean(axis=(0, 2, 3), keepdims=True)
            std = np.sqrt(xs.var(axis=(0, 2, 3), keepdims=True) + layer.eps)
            x_hat = np.abs((xs - mean) / std)
            gamma = np.abs(layer.weight.data)[None, :, None, None]
            scales = [float((g * x_hat).sum(axis=(0, 2, 3)).max()), float(g.sum(axis=(0, 2, 3)).max())]
            d = gamma / std * (g + g.mean(axis=(0, 2, 3), keepdims=True)
                               + x_hat * (g * x_hat).mean(axis=(0, 2, 3), keepdims=True))
        else:
            scales, d = [], g
        param_scales += scales
        if layer is ref[0]:
            dx_scale = float(d.max())
    return [float(np.abs(y).max()), dx_scale] + param_scales


@pytest.mark.gpu
def test_cupy_matches_numpy_float32(rng):
    """The same float32 model on both backends agrees to within float32 rounding of the terms
    that enter each result. (Not relative to a result's own size: the gradient of a conv bias
    that feeds BatchNorm is exactly zero, so what either backend computes there is rounding
    of terms ~1e5 times larger than itself.)"""
    model = _model_for_backend_comparison()
    gpu = _model_for_backend_comparison()
    gpu.load_state_dict(model.state_dict())
    gpu.to("cuda")
    x = rng.standard_normal((16, 1, 28, 28)).astype(np.float32)
    y, yg = model(x), gpu(mg.to_device(x, "cuda"))
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, dxg = model.backward(dy), gpu.backward(mg.to_device(dy, "cuda"))
    scales = _rounding_scales(model, x, dy)
    pairs = [("y", y, yg), ("dx", dx, dxg)] + [(name, p.grad, q.grad) for (name, p), q in
                                               zip(model.named_parameters(), gpu.parameters())]
    assert len(scales) == len(pairs)
    for (name, a, b), scale in zip(pairs, scales):
        err = np.abs(a - mg.asnumpy(b)).max()
        assert err <= 1e-5 * scale, f"{name}: |cpu - gpu| = {err:.3g}, terms of size {scale:.3g}"


def test_rounding_scales_bound_the_float32_error(rng):
    """The scales used above are honest: on the CPU alone, float32 vs float64 differences sit
    well under 1e-5 of them, while the conv bias's own size is far smaller than its scale."""
    model = _model_for_backend_comparison()
    x = rng.standard_normal((16, 1, 28, 28)).astype(np.float32)
    y = model(x)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = model.backward(dy)
    ref = copy.deepcopy(model).double()
    y64 = ref(x.astype(np.float64))
    dx64 = ref.backward(dy.astype(np.float64))
    scales = _rounding_scales(model, x, dy)
    results = [(y, y64), (dx, dx64)] + [(p.grad, q.grad) for p, q in zip(model.parameters(), ref.parameters())]
    for (a, b), scale in zip(results, scales):
        assert np.abs(a - b).max() <= 1e-5 * scale
    conv_bias_grad, conv_bias_scale = ref[0].bias.grad, scales[3]
    assert np.abs(conv_bias_grad).max() < 1e-3 * conv_bias_scale     # the ill-posed case


def test_every_module_takes_need_input_grad():
    """One backward contract: ``backward(grad_output, need_input_grad=True)`` everywhere."""
    import inspect
    modules = [c for c in vars(nn).values() if isinstance(c, type) and issubclass(c, nn.Module)]
    assert len(modules) > 15
    for cls in modules:
        assert "need_input_grad" in inspect.signature(cls.backward).parameters, cls.__name__


def test_sequential_skips_only_the_first_layers_input_gradient(rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = rng.standard_normal((5, 3)).astype(np.float32)
    dy = rng.standard_normal((5, 2)).astype(np.float32)
    model(x)
    assert model.backward(dy, need_input_grad=False) is None
    skipped = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    model(x)
    assert model.backward(dy).shape == x.shape
    for a, p in zip(skipped, model.parameters()):
        np.testing.assert_array_equal(a, p.grad)          # the parameters' gradients are the same


def test_batchnorm_closed_form_backward_equals_the_step_by_step_one(rng, path):
    """The compact formula in _BatchNorm.backward is the node-by-node chain rule, simplified."""
    from minigan.nn.batchnorm import batchnorm_backward_steps
    from minigan.kernels.layout import batch_last
    bn = nn.BatchNorm2d(3).double()
    bn.weight.data[...] = rng.standard_normal(3)
    x = rng.standard_normal((8, 3, 4, 5)) * 2 + 1
    dy = rng.standard_normal(x.shape)
    bn(x)
    dx = bn.backward(dy)
    x_hat = batch_last((x - x.mean(axis=(0, 2, 3), keepdims=True))
                       / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + bn.eps)).reshape(3, -1)
    inv_std = 1 / np.sqrt(x.var(axis=(0, 2, 3)) + bn.eps)
    steps = batchnorm_backward_steps(batch_last(dy).reshape(3, -1), x_hat, inv_std, bn.weight.data)
    np.testing.assert_allclose(batch_last(dx).reshape(3, -1), steps, rtol=1e-10, atol=1e-12)
