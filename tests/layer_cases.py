"""Layer configurations shared by the gradient-check and PyTorch-oracle tests.

Each case: (id, factory() -> minigan module, input shape, kind of input values).
"""
from minigan import nn

CASES = [
    ("linear", lambda: nn.Linear(5, 3), (4, 5)),
    ("linear-nobias", lambda: nn.Linear(6, 2, bias=False), (3, 6)),
    ("conv-k3", lambda: nn.Conv2d(2, 3, 3), (2, 2, 5, 5)),
    ("conv-k3s2p1", lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1), (2, 2, 5, 6)),
    ("conv-k5s2p2", lambda: nn.Conv2d(1, 4, 5, stride=2, padding=2), (2, 1, 7, 7)),
    ("conv-nonsquare-nobias", lambda: nn.Conv2d(3, 2, (3, 2), stride=(2, 1), padding=(1, 0), bias=False), (2, 3, 6, 5)),
    ("conv-k4s2p1", lambda: nn.Conv2d(2, 2, 4, stride=2, padding=1), (3, 2, 6, 6)),
    ("conv-k1", lambda: nn.Conv2d(3, 2, 1), (2, 3, 3, 4)),
    ("convT-k3", lambda: nn.ConvTranspose2d(2, 3, 3), (2, 2, 4, 4)),
    ("convT-k5s2p2op1", lambda: nn.ConvTranspose2d(3, 2, 5, stride=2, padding=2, output_padding=1,
                                                   bias=False), (2, 3, 4, 4)),
    ("convT-k5s1p2", lambda: nn.ConvTranspose2d(4, 2, 5, stride=1, padding=2), (2, 4, 3, 3)),
    ("convT-nonsquare", lambda: nn.ConvTranspose2d(2, 2, (3, 2), stride=(2, 1), padding=(1, 0),
                                                   output_padding=(1, 0)), (2, 2, 3, 4)),
    ("convT-k4s2p1", lambda: nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1), (2, 3, 3, 3)),
    # shapes where the CPU's padding-free paths (nn/conv_taps.py) are chosen: row runs
    # (conv forward, convT backward), phases (convT forward, conv input gradient), and a stride
    # larger than the kernel (output phases no tap reaches)
    ("conv-k5s1p2-rows", lambda: nn.Conv2d(3, 4, 5, padding=2), (2, 3, 5, 6)),
    ("conv-k3s2p2-narrowing", lambda: nn.Conv2d(5, 2, 3, stride=2, padding=2), (2, 5, 6, 5)),
    ("convT-k3s2p1-widening", lambda: nn.ConvTranspose2d(2, 5, 3, stride=2, padding=1, output_padding=1),
     (2, 2, 4, 5)),
    ("convT-k2s3-gaps", lambda: nn.ConvTranspose2d(2, 4, 2, stride=3, output_padding=2, bias=False), (2, 2, 3, 3)),
    ("convT-k5s1p2-rows", lambda: nn.ConvTranspose2d(3, 2, 5, padding=2), (2, 3, 5, 4)),
    ("relu", lambda: nn.ReLU(), (3, 4)),
    ("leakyrelu", lambda: nn.LeakyReLU(0.2), (2, 3, 4, 4)),
    ("tanh", lambda: nn.Tanh(), (3, 5)),
    ("sigmoid", lambda: nn.Sigmoid(), (2, 2, 3, 3)),
    ("bn1d-train", lambda: _affine(nn.BatchNorm1d(4)), (6, 4)),
    ("bn1d-3d-train", lambda: _affine(nn.BatchNorm1d(3)), (4, 3, 5)),
    ("bn1d-eval", lambda: _with_stats(nn.BatchNorm1d(4)).eval(), (6, 4)),
    ("bn2d-train", lambda: _affine(nn.BatchNorm2d(3)), (4, 3, 3, 2)),
    ("bn2d-eval", lambda: _with_stats(nn.BatchNorm2d(3)).eval(), (4, 3, 3, 2)),
    ("bn2d-noaffine", lambda: nn.BatchNorm2d(2, affine=False), (3, 2, 2, 2)),
    ("layernorm", lambda: _affine(nn.LayerNorm(6)), (4, 6)),
    ("layernorm-2d", lambda: _affine(nn.LayerNorm((2, 3))), (3, 2, 3)),
    ("dropout-train", lambda: nn.Dropout(0.3), (4, 5)),
    ("dropout-eval", lambda: nn.Dropout(0.3).eval(), (4, 5)),
    ("flatten", lambda: nn.Flatten(), (2, 3, 2, 2)),
    ("reshape", lambda: nn.Reshape(3, 2, 2), (2, 12)),
    ("sequential-convnet", lambda: nn.Sequential(
        nn.Conv2d(1, 3, 3, stride=2, padding=1), _affine(nn.BatchNorm2d(3)), nn.LeakyReLU(0.2),
        nn.Dropout(0.25), nn.Flatten(), nn.Linear(3 * 3 * 3, 2)), (4, 1, 5, 5)),
    ("sequential-generator", lambda: nn.Sequential(
        nn.Linear(4, 2 * 3 * 3, bias=False), _affine(nn.BatchNorm1d(18)), nn.ReLU(), nn.Reshape(2, 3, 3),
        nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1, output_padding=1), nn.Tanh()), (4, 4)),
]


def _affine(norm):
    """A BatchNorm/LayerNorm with random γ (away from 0 and 1, either sign) and β: with the
    default γ = 1, β = 0 a backward that forgot γ or β would pass every check."""
    import numpy as np
    r = np.random.default_rng(11)
    shape = norm.weight.data.shape
    norm.weight.data[...] = r.uniform(0.5, 1.5, shape) * r.choice([-1.0, 1.0], shape)
    norm.bias.data[...] = r.standard_normal(shape)
    return norm


def _with_stats(bn):
    """A BatchNorm whose running statistics are not the trivial 0/1."""
    import numpy as np
    r = np.random.default_rng(7)
    bn.running_mean[...] = r.standard_normal(bn.num_features)
    bn.running_var[...] = r.uniform(0.5, 2.0, bn.num_features)
    bn.weight.data[...] = r.uniform(0.5, 1.5, bn.num_features)
    bn.bias.data[...] = r.standard_normal(bn.num_features)
    return bn


def away_from_kinks(x):
    """Move values at least 0.05 away from 0, where ReLU/LeakyReLU have a kink."""
    import numpy as np
    return np.where(x >= 0, x + 0.05, x - 0.05)
