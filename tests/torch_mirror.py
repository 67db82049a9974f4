"""Build the PyTorch twin of a minigan module (test oracle only; minigan never imports torch)."""
import numpy as np

import minigan as mg
from minigan import nn

torch = None


def _torch():
    global torch
    if torch is None:
        import torch as _t
        torch = _t
    return torch


class _ReplayDropout:
    """A torch layer applying the mask minigan's Dropout drew in its last forward."""

    def __new__(cls, mg_dropout):
        t = _torch()

        class ReplayDropout(t.nn.Module):
            def forward(self, x):
                mask = mg_dropout.mask() if mg_dropout.training else None
                return x if mask is None else x * t.from_numpy(mg.asnumpy(mask).copy())
        return ReplayDropout()


def mirror(m):
    """A torch.nn module with the same architecture and the same weights/buffers as ``m``."""
    t = _torch().nn
    if isinstance(m, nn.Sequential):
        tm = t.Sequential(*[mirror(c) for c in m])
    elif isinstance(m, nn.Linear):
        tm = t.Linear(m.in_features, m.out_features, bias=m.bias is not None)
    elif isinstance(m, nn.Conv2d):
        tm = t.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, bias=m.bias is not None)
    elif isinstance(m, nn.ConvTranspose2d):
        tm = t.ConvTranspose2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                               m.output_padding, bias=m.bias is not None)
    elif isinstance(m, nn.LeakyReLU):
        tm = t.LeakyReLU(m.negative_slope)
    elif isinstance(m, (nn.ReLU, nn.Tanh, nn.Sigmoid)):
        tm = getattr(t, type(m).__name__)()
    elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        tm = getattr(t, type(m).__name__)(m.num_features, eps=m.eps, momentum=m.momentum, affine=m.affine)
    elif isinstance(m, nn.LayerNorm):
        tm = t.LayerNorm(m.normalized_shape, eps=m.eps, elementwise_affine=m.elementwise_affine)
    elif isinstance(m, nn.Dropout):
        tm = _ReplayDropout(m)
    elif isinstance(m, nn.Flatten):
        tm = t.Flatten()
    elif isinstance(m, nn.Reshape):
        tm = t.Unflatten(1, m.shape)
    else:
        raise TypeError(f"no torch mirror for {type(m).__name__}")
    tm = tm.double() if m.dtype == np.float64 else tm
    tm.load_state_dict(to_torch_state(m.state_dict()))
    tm.train(m.training)
    return tm


def to_torch_state(state):
    t = _torch()
    return {k: t.from_numpy(np.array(mg.asnumpy(v))) for k, v in state.items()}


def tensor(x, requires_grad=False):
    return _torch().tensor(mg.asnumpy(x), requires_grad=requires_grad)


def rel_err(a, b, floor=1e-8):
    """max |a − b| / max(max |b|, floor) (b: torch tensor or array). The floor keeps
    round-off on an exactly-zero true value (a conv bias before BatchNorm) from counting."""
    a = np.asarray(mg.asnumpy(a), dtype=np.float64)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), floor))


def assert_gradcheck_and_torch(module, x, rng, tol):
    """A float64 module: finite differences agree with its backward, and its output, dL/dx and
    every parameter's gradient agree with its PyTorch twin's within ``tol`` (relative)."""
    report = mg.gradcheck(module, x)
    assert report.ok, str(report)
    module.zero_grad()
    t_module = mirror(module)
    y = module(x)
    dy = rng.standard_normal(y.shape)
    xt = tensor(x, requires_grad=True)
    yt = t_module(xt)
    assert rel_err(y, yt) < tol
    dx = module.backward(dy)
    yt.backward(tensor(dy))
    assert rel_err(dx, xt.grad) < tol
    t_params = dict(t_module.named_parameters())
    for name, p in module.named_parameters():
        assert rel_err(p.grad, t_params[name].grad) < tol, name
