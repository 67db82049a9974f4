"""Each layer's backward against its formula, computed here directly from the layer's own
forward quantities (float64, random inputs, random upstream gradients, random γ and β), on the
plain and on the fast path. A failure names the formula: "dL/dx of Conv2d != col2im(Wᵀ·dY)"."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.nn.im2col import col2im, im2col

pytestmark = pytest.mark.usefixtures("path")        # both paths: the fast one must obey the same formula


def _close(actual, expected, what):
    actual, expected = mg.asnumpy(actual), mg.asnumpy(expected)
    scale = max(np.abs(expected).max(), 1e-12)
    err = np.abs(actual - expected).max() / scale
    assert err < 1e-10, f"{what}: relative error {err:.2e}"


@pytest.mark.parametrize("cin,cout,k,s,p,hw", [(3, 4, 3, 1, 1, (6, 5)), (2, 3, 5, 2, 2, (7, 7)),
                                              (4, 2, 4, 2, 1, (8, 8)), (2, 2, (3, 2), (2, 1), (1, 0), (6, 5))])
def test_conv2d_gradients_are_col2im_of_wt_dy_and_dy_xt(cin, cout, k, s, p, hw, rng):
    conv = nn.Conv2d(cin, cout, k, stride=s, padding=p).double()
    x = rng.standard_normal((3, cin, *hw))
    y = conv(x)
    dy = rng.standard_normal(y.shape)
    dx = conv.backward(dy)
    n, (ho, wo) = x.shape[0], y.shape[2:]
    X = im2col(np.ascontiguousarray(x.transpose(1, 2, 3, 0)), conv.kernel_size, conv.stride,
               conv.padding, (ho, wo))                                    # (Cin·kh·kw, Ho·Wo·N)
    dY = dy.transpose(1, 2, 3, 0).reshape(cout, -1)                      # (Cout, Ho·Wo·N)
    W = conv.weight.data.reshape(cout, -1)
    _close(y.transpose(1, 2, 3, 0).reshape(cout, -1), W @ X + conv.bias.data[:, None], "y of Conv2d != W·X + b")
    _close(conv.weight.grad, (dY @ X.T).reshape(conv.weight.data.shape), "dL/dW of Conv2d != dY·Xᵀ")
    _close(conv.bias.grad, dY.sum(axis=1), "dL/db of Conv2d != Σ dY")
    expected = col2im(W.T @ dY, cin, hw, conv.kernel_size, conv.stride, conv.padding, (ho, wo))
    _close(dx, expected.transpose(3, 0, 1, 2), "dL/dx of Conv2d != col2im(Wᵀ·dY)")
    assert expected.shape == (cin, *hw, n)


@pytest.mark.parametrize("cin,cout,k,s,p,op,hw", [(3, 2, 4, 2, 1, 0, (4, 4)), (2, 3, 5, 2, 2, 1, (4, 3)),
                                                 (4, 2, 5, 1, 2, 0, (3, 3))])
def test_conv_transpose2d_gradients_are_im2col_of_dy(cin, cout, k, s, p, op, hw, rng):
    convt = nn.ConvTranspose2d(cin, cout, k, stride=s, padding=p, output_padding=op).double()
    x = rng.standard_normal((2, cin, *hw))
    y = convt(x)
    dy = rng.standard_normal(y.shape)
    dx = convt.backward(dy)
    x_cols = x.transpose(1, 2, 3, 0).reshape(cin, -1)                    # (Cin, H·W·N)
    W = convt.weight.data.reshape(cin, -1)                               # (Cin, Cout·kh·kw)
    expected_y = col2im(W.T @ x_cols, cout, y.shape[2:], convt.kernel_size, convt.stride,
                        convt.padding, hw) + convt.bias.data[:, None, None, None]
    _close(y, expected_y.transpose(3, 0, 1, 2), "y of ConvTranspose2d != col2im(Wᵀ·x) + b")
    D = im2col(np.ascontiguousarray(dy.transpose(1, 2, 3, 0)), convt.kernel_size, convt.stride,
               convt.padding, hw)                                        # (Cout·kh·kw, H·W·N)
    _close(convt.weight.grad, (x_cols @ D.T).reshape(convt.weight.data.shape),
           "dL/dW of ConvTranspose2d != x·im2col(dy)ᵀ")
    _close(dx, (W @ D).reshape(cin, *hw, 2).transpose(3, 0, 1, 2), "dL/dx of ConvTranspose2d != W·im2col(dy)")


def test_linear_gradients(rng):
    lin = nn.Linear(5, 3).double()
    x, dy = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    _close(lin(x), x @ lin.weight.data.T + lin.bias.data, "y of Linear != x·Wᵀ + b")
    dx = lin.backward(dy)
    _close(lin.weight.grad, dy.T @ x, "dL/dW of Linear != dyᵀ·x")
    _close(lin.bias.grad, dy.sum(axis=0), "dL/db of Linear != Σ_n dy")
    _close(dx, dy @ lin.weight.data, "dL/dx of Linear != dy·W")


@pytest.mark.parametrize("shape", [(6, 4), (5, 3, 4, 3)], ids=["bn1d", "bn2d"])
def test_batchnorm_gradients_with_random_gamma_and_beta(shape, rng):
    bn = (nn.BatchNorm1d if len(shape) == 2 else nn.BatchNorm2d)(shape[1]).double()
    bn.weight.data[...] = rng.uniform(0.5, 2.0, shape[1]) * rng.choice([-1, 1], shape[1])
    bn.bias.data[...] = rng.standard_normal(shape[1])
    x = rng.standard_normal(shape) * 3 + 1
    dy = rng.standard_normal(shape)
    axes = (0,) + tuple(range(2, len(shape)))
    c = (1, shape[1]) + (1,) * (len(shape) - 2)
    x_hat = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + bn.eps)
    _close(bn(x), x_hat * bn.weight.data.reshape(c) + bn.bias.data.reshape(c), "y of BatchNorm != γ·x̂ + β")
    dx = bn.backward(dy)
    _close(bn.weight.grad, (dy * x_hat).sum(axis=axes), "dL/dγ of BatchNorm != Σ dy·x̂")
    _close(bn.bias.grad, dy.sum(axis=axes), "dL/dβ of BatchNorm != Σ dy")
    g = dy * bn.weight.data.reshape(c)
    expected = (g - g.mean(axis=axes, keepdims=True) - x_hat * (g * x_hat).mean(axis=axes, keepdims=True)) \
        / np.sqrt(x.var(axis=axes, keepdims=True) + bn.eps)
    _close(dx, expected, "dL/dx of BatchNorm != (dx̂ − mean dx̂ − x̂·mean(dx̂·x̂))/√(σ²+ε)")


def test_leaky_relu_and_dropout_gradients(rng):
    x, dy = rng.standard_normal((6, 3, 4, 4)), rng.standard_normal((6, 3, 4, 4))
    act = nn.LeakyReLU(0.2).double()
    _close(act(x), np.where(x > 0, x, 0.2 * x), "y of LeakyReLU")
    _close(act.backward(dy), np.where(x > 0, dy, 0.2 * dy), "dL/dx of LeakyReLU != dy·(1 or a)")
    drop = nn.Dropout(0.3).double()
    y = drop(x)
    mask = drop.mask()
    assert set(np.unique(mg.asnumpy(mask))) <= {0.0, 1 / 0.7}
    _close(y, x * mask, "y of Dropout != x·mask/(1 − p)")
    _close(drop.backward(dy), dy * mask, "dL/dx of Dropout != dy·mask/(1 − p)")


def test_adam_update_formula(rng):
    lin = nn.Linear(4, 3).double()
    opt = mg.optim.Adam(lin.parameters(), lr=0.05, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)
    theta = [p.data.copy() for p in lin.parameters()]
    m = [np.zeros_like(t) for t in theta]
    v = [np.zeros_like(t) for t in theta]
    for t in range(1, 4):
        grads = [rng.standard_normal(p.shape) for p in lin.parameters()]
        for p, g in zip(lin.parameters(), grads):
            p.grad[...] = g
        opt.step()
        for i, g in enumerate(grads):
            g = g + 0.1 * theta[i]
            m[i] = 0.8 * m[i] + 0.2 * g
            v[i] = 0.95 * v[i] + 0.05 * g * g
            theta[i] = theta[i] - 0.05 / (1 - 0.8 ** t) * m[i] / (np.sqrt(v[i]) / np.sqrt(1 - 0.95 ** t) + 1e-6)
        for p, expected in zip(lin.parameters(), theta):
            _close(p.data, expected, f"Adam's θ after step {t}")
