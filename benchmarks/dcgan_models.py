"""The flagship DCGAN (examples/mnist_dcgan.py) for the benchmarks, in minigan and in PyTorch.

The PyTorch twin is written out layer by layer with the same indices as minigan's builders, so
one ``state_dict`` copies across and the two engines run the very same step on the same weights.
"""
import numpy as np

import minigan as mg
from minigan import gan

Z_DIM = 100


def minigan_dcgan():
    """The flagship's own builders (minigan/gan/models.py), DCGAN-initialised:
    G: z(100) -> Linear 7·7·256 -> BN -> LReLU(0.2) -> (256,7,7) -> ConvT 5×5 s1 -> 128 -> ConvT
    s2 -> 64 -> ConvT s2 -> 1 (28×28) -> tanh;  D: Conv 5×5 s2 1->64 -> LReLU(0.2) -> Dropout(0.3)
    -> Conv 5×5 s2 64->128 -> LReLU -> Dropout -> Flatten -> Linear(6272 -> 1) logit."""
    return gan.dcgan28_generator(z_dim=Z_DIM), gan.dcgan28_discriminator()


def torch_dcgan(G, D):
    """The same architecture in PyTorch, with G's and D's weights copied in."""
    import torch
    t = torch.nn
    tG = t.Sequential(
        t.Linear(Z_DIM, 7 * 7 * 256, bias=False), t.BatchNorm1d(7 * 7 * 256), t.LeakyReLU(0.2),
        t.Unflatten(1, (256, 7, 7)),
        t.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False), t.BatchNorm2d(128), t.LeakyReLU(0.2),
        t.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False), t.BatchNorm2d(64),
        t.LeakyReLU(0.2),
        t.ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1, bias=False), t.Tanh())
    tD = t.Sequential(
        t.Conv2d(1, 64, 5, stride=2, padding=2), t.LeakyReLU(0.2), t.Dropout(0.3),
        t.Conv2d(64, 128, 5, stride=2, padding=2), t.LeakyReLU(0.2), t.Dropout(0.3),
        t.Flatten(), t.Linear(7 * 7 * 128, 1))
    for ours, theirs in ((G, tG), (D, tD)):
        theirs.load_state_dict({k: torch.from_numpy(np.array(mg.asnumpy(v))) for k, v in ours.state_dict().items()})
    return tG, tD
