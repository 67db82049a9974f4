"""The models the examples train, for the benchmarks, in minigan and in PyTorch.

``MODELS`` names each one (``bench_step.py --model``, ``bench_layers.py --model``):

* ``dcgan28``: the flagship's 28×28 MNIST DCGAN (examples/mnist_dcgan.py);
* ``dcgan64``: the 64×64 RGB DCGAN of the art-GAN article (examples/image_folder_dcgan.py,
  ``dcgan_generator`` / ``dcgan_discriminator`` with ngf = ndf = 64).

The PyTorch twins are written out layer by layer with the same indices as minigan's builders, so
one ``state_dict`` copies across and the two engines run the very same step on the same weights.
"""
from dataclasses import dataclass

import numpy as np

import minigan as mg
from minigan import gan

Z_DIM = 100


@dataclass(frozen=True)
class Model:
    """A benchmarked GAN: its builders, its data's shape and its default batch sizes."""
    name: str
    about: str
    image_shape: tuple          # (C, H, W) of one real image
    batches: tuple              # default batch sizes of bench_step.py / bench_layers.py
    build: object               # () -> (G, D), minigan, DCGAN-initialised
    torch_layers: object        # torch.nn -> (G layers, D layers), same indices as minigan's
    z_dim: int = Z_DIM

    def minigan(self):
        return self.build()

    def torch(self, G, D):
        """The same architecture in PyTorch, with G's and D's weights copied in."""
        import torch
        tG, tD = (torch.nn.Sequential(*layers) for layers in self.torch_layers(torch.nn))
        for ours, theirs in ((G, tG), (D, tD)):
            theirs.load_state_dict({k: torch.from_numpy(np.array(mg.asnumpy(v)))
                                    for k, v in ours.state_dict().items()})
        return tG, tD


def _dcgan28_torch(t):
    """G: z(100) -> Linear 7·7·256 -> BN -> LReLU(0.2) -> (256,7,7) -> ConvT 5×5 s1 -> 128 -> ConvT
    s2 -> 64 -> ConvT s2 -> 1 (28×28) -> tanh;  D: Conv 5×5 s2 1->64 -> LReLU(0.2) -> Dropout(0.3)
    -> Conv 5×5 s2 64->128 -> LReLU -> Dropout -> Flatten -> Linear(6272 -> 1) logit."""
    G = [t.Linear(Z_DIM, 7 * 7 * 256, bias=False), t.BatchNorm1d(7 * 7 * 256), t.LeakyReLU(0.2),
         t.Unflatten(1, (256, 7, 7)),
         t.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False), t.BatchNorm2d(128), t.LeakyReLU(0.2),
         t.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False), t.BatchNorm2d(64),
         t.LeakyReLU(0.2),
         t.ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1, bias=False), t.Tanh()]
    D = [t.Conv2d(1, 64, 5, stride=2, padding=2), t.LeakyReLU(0.2), t.Dropout(0.3),
         t.Conv2d(64, 128, 5, stride=2, padding=2), t.LeakyReLU(0.2), t.Dropout(0.3),
         t.Flatten(), t.Linear(7 * 7 * 128, 1)]
    return G, D


def _dcgan64_torch(t, nc=3, width=64):
    """G: z(100) -> Linear 512·4·4 -> (512,4,4) -> BN -> LReLU(0.2) -> [ConvT 4×4 s2 p1 C -> C/2 ->
    BN -> LReLU] ×3 -> ConvT 64 -> 3 (64×64) -> tanh;  D: Conv 4×4 s2 p1 3 -> 64 -> LReLU ->
    [Conv C -> 2C -> BN -> LReLU] ×3 -> Flatten -> Linear(512·4·4 -> 1) logit."""
    c = 8 * width
    G = [t.Linear(Z_DIM, c * 16, bias=False), t.Unflatten(1, (c, 4, 4)), t.BatchNorm2d(c), t.LeakyReLU(0.2)]
    for _ in range(3):
        G += [t.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), t.BatchNorm2d(c // 2), t.LeakyReLU(0.2)]
        c //= 2
    G += [t.ConvTranspose2d(c, nc, 4, 2, 1), t.Tanh()]
    D = [t.Conv2d(nc, width, 4, 2, 1), t.LeakyReLU(0.2)]
    c = width
    for _ in range(3):
        D += [t.Conv2d(c, 2 * c, 4, 2, 1, bias=False), t.BatchNorm2d(2 * c), t.LeakyReLU(0.2)]
        c *= 2
    D += [t.Flatten(), t.Linear(c * 16, 1)]
    return G, D


MODELS = {
    "dcgan28": Model("dcgan28", "the flagship's 28×28 MNIST DCGAN (examples/mnist_dcgan.py)",
                     (1, 28, 28), (64, 128),
                     lambda: (gan.dcgan28_generator(z_dim=Z_DIM), gan.dcgan28_discriminator()),
                     _dcgan28_torch),
    "dcgan64": Model("dcgan64", "the 64×64 RGB DCGAN, ngf = ndf = 64 (examples/image_folder_dcgan.py)",
                     (3, 64, 64), (16, 32, 64),
                     lambda: (gan.dcgan_generator(z_dim=Z_DIM, nc=3, ngf=64, image_size=64),
                              gan.dcgan_discriminator(nc=3, ndf=64, image_size=64)),
                     _dcgan64_torch),
}


def minigan_dcgan(model="dcgan28"):
    """(G, D) of ``model`` (a name of MODELS), DCGAN-initialised."""
    return MODELS[model].minigan()


def torch_dcgan(G, D, model="dcgan28"):
    """The PyTorch twin of ``model`` with G's and D's weights copied in."""
    return MODELS[model].torch(G, D)
