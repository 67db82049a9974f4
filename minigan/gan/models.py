"""Model builders for the GANs of the examples, each a plain ``nn.Sequential``.

Every builder is registered by name in :data:`BUILDERS`, so a checkpoint can store
``{"builder": "dcgan28_generator", "kwargs": {"z_dim": 100}}`` and
:func:`build_model` rebuilds the same network later (``examples/latent_walk.py`` does).

Builders draw their initial weights from minigan's seeded generator: call ``mg.seed(n)`` first
for reproducible weights.

The flagship pair (:func:`dcgan28_generator`, :func:`dcgan28_discriminator`) keeps its layer
order and indices fixed: ``benchmarks/dcgan_models.py`` and the PyTorch oracle tests mirror it
layer by layer, and its ``state_dict`` names ("0.weight", "1.running_mean", ...) are PyTorch's.
"""
import math

import numpy as np

from .. import nn

__all__ = ["BUILDERS", "build_model", "register",
           "dcgan28_generator", "dcgan28_discriminator",
           "dcgan_generator", "dcgan_discriminator",
           "mnist_mlp_generator", "mnist_mlp_discriminator",
           "knet_mlp_generator", "knet_mlp_discriminator", "knet_hidden_size",
           "pattern_generator", "pattern_discriminator",
           "one_parameter_generator", "one_parameter_discriminator"]

BUILDERS = {}


def register(fn):
    """Decorator: make a builder rebuildable by name with :func:`build_model`."""
    BUILDERS[fn.__name__] = fn
    return fn


def build_model(spec_or_name, **kwargs):
    """Build a registered model from a spec ``{"builder": name, "kwargs": {...}}`` or a name."""
    if isinstance(spec_or_name, dict):
        name, kwargs = spec_or_name["builder"], dict(spec_or_name.get("kwargs", {}), **kwargs)
    else:
        name = spec_or_name
    if name not in BUILDERS:
        raise ValueError(f"unknown model builder {name!r}; known: {', '.join(sorted(BUILDERS))}")
    return BUILDERS[name](**kwargs)


# ----------------------------------------------------------------------------- flagship 28x28
@register
def dcgan28_generator(z_dim=100, slope=0.2):
    """The flagship MNIST generator: z (N, z_dim) -> images (N, 1, 28, 28) in [-1, 1].

    Source: the TensorFlow DCGAN tutorial as ported in the Flux model zoo's "Deep Convolutional
    Generative Adversarial Network (DCGAN)" tutorial, and the DCGAN post of the "Deconstructing
    Deep Learning" blog.

        index  layer                                             output
          0    Linear(z_dim, 7·7·256, bias=False)                (N, 12544)
          1    BatchNorm1d(12544)
          2    LeakyReLU(slope)
          3    Reshape(256, 7, 7)                                (N, 256, 7, 7)
          4    ConvTranspose2d(256, 128, 5, s=1, p=2, bias=False) (N, 128, 7, 7)
          5    BatchNorm2d(128)
          6    LeakyReLU(slope)
          7    ConvTranspose2d(128, 64, 5, s=2, p=2, output_padding=1, bias=False) (N, 64, 14, 14)
          8    BatchNorm2d(64)
          9    LeakyReLU(slope)
         10    ConvTranspose2d(64, 1, 5, s=2, p=2, output_padding=1, bias=False)   (N, 1, 28, 28)
         11    Tanh()

    Choices: the TF tutorial uses LeakyReLU in G, Flux's zoo ReLU; we keep LeakyReLU(0.2)
    (``slope=0`` gives ReLU's numbers). "Same" padding for a 5×5 stride-2 transposed conv is
    padding 2 plus output_padding 1 (PyTorch's spelling of what TF/Flux call SamePad).
    No biases before BatchNorm (they would be cancelled by its mean subtraction).
    Init: DCGAN paper, N(0, 0.02²) weights, BN γ ~ N(1, 0.02²).
    """
    G = nn.Sequential(
        nn.Linear(z_dim, 7 * 7 * 256, bias=False), nn.BatchNorm1d(7 * 7 * 256), nn.LeakyReLU(slope),
        nn.Reshape(256, 7, 7),
        nn.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False), nn.BatchNorm2d(128),
        nn.LeakyReLU(slope),
        nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False),
        nn.BatchNorm2d(64), nn.LeakyReLU(slope),
        nn.ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1, bias=False), nn.Tanh())
    return nn.init.dcgan_init(G)


def with_spectral_norm(model):
    """Every Conv2d and Linear of the Sequential ``model`` wrapped in nn.SpectralNorm (after
    their initialisation): D's layers then have largest singular value ≈ 1."""
    for name, layer in list(model._modules.items()):
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            setattr(model, name, nn.SpectralNorm(layer))
    return model


@register
def dcgan28_discriminator(dropout=0.3, spectral_norm=False):
    """The flagship MNIST discriminator: images (N, 1, 28, 28) -> logits (N, 1).

    Source: the TensorFlow DCGAN tutorial / the Flux model zoo's DCGAN tutorial.

        index  layer                                  output
          0    Conv2d(1, 64, 5, s=2, p=2)             (N, 64, 14, 14)
          1    LeakyReLU(0.2)
          2    Dropout(dropout)
          3    Conv2d(64, 128, 5, s=2, p=2)           (N, 128, 7, 7)
          4    LeakyReLU(0.2)
          5    Dropout(dropout)
          6    Flatten()                              (N, 6272)
          7    Linear(6272, 1)                        (N, 1)  a logit: train with BCEWithLogitsLoss

    No BatchNorm in D (the tutorial's choice; dropout regularises it instead). Init: DCGAN.
    spectral_norm: wrap layers 0, 3 and 7 in nn.SpectralNorm (Miyato et al. 2018).
    """
    D = nn.Sequential(
        nn.Conv2d(1, 64, 5, stride=2, padding=2), nn.LeakyReLU(0.2), nn.Dropout(dropout),
        nn.Conv2d(64, 128, 5, stride=2, padding=2), nn.LeakyReLU(0.2), nn.Dropout(dropout),
        nn.Flatten(), nn.Linear(7 * 7 * 128, 1))
    D = nn.init.dcgan_init(D)
    return with_spectral_norm(D) if spectral_norm else D


# ----------------------------------------------------------------------------- 64x64 (art GAN)
def _doublings(image_size):
    n = int(round(math.log2(image_size / 4))) if image_size >= 8 else 0
    if image_size < 8 or 4 * 2 ** n != image_size:
        raise ValueError(f"image_size must be 4·2^k with k >= 1 (8, 16, 32, 64, 128, ...), got {image_size}")
    return n


@register
def dcgan_generator(z_dim=100, nc=3, ngf=64, image_size=64, slope=0.2):
    """DCGAN generator for square images: z (N, z_dim) -> (N, nc, S, S) in [-1, 1].

    Source: "Generative Adversarial Networks in PyTorch: the distribution of Art?" and the DCGAN
    paper:
    a Linear layer to a 4×4 map, then transposed convolutions with 4×4 kernels, stride 2,
    padding 1 (each doubles the size), BatchNorm and LeakyReLU(0.2), Tanh at the end.
    For S = 64: 4 → 8 → 16 → 32 → 64 with channels ngf·8 → ngf·4 → ngf·2 → ngf → nc.

        Linear(z_dim, ngf·2^(k-1)·16, bias=False) → Reshape(C, 4, 4) → BatchNorm2d → LeakyReLU
        [ConvTranspose2d(C, C/2, 4, 2, 1, bias=False) → BatchNorm2d → LeakyReLU] × (k − 1)
        ConvTranspose2d(ngf, nc, 4, 2, 1) → Tanh                    (k = log2(S/4) doublings)

    ``nc`` = 3 for RGB, 1 for grayscale; ``ngf`` sets the width (64 in the paper; smaller is
    much faster on a CPU: the cost grows with ngf²). Init: DCGAN.
    """
    k = _doublings(image_size)
    c = ngf * 2 ** (k - 1)
    layers = [nn.Linear(z_dim, c * 16, bias=False), nn.Reshape(c, 4, 4), nn.BatchNorm2d(c),
              nn.LeakyReLU(slope)]
    for _ in range(k - 1):
        layers += [nn.ConvTranspose2d(c, c // 2, 4, stride=2, padding=1, bias=False),
                   nn.BatchNorm2d(c // 2), nn.LeakyReLU(slope)]
        c //= 2
    layers += [nn.ConvTranspose2d(c, nc, 4, stride=2, padding=1), nn.Tanh()]
    return nn.init.dcgan_init(nn.Sequential(*layers))


@register
def dcgan_discriminator(nc=3, ndf=64, image_size=64, slope=0.2, spectral_norm=False):
    """DCGAN discriminator for square images: (N, nc, S, S) -> logits (N, 1).

    Source: "GANs in PyTorch: the distribution of Art?" and the DCGAN paper: convolutions with
    4×4 kernels, stride 2, padding 1 (each halves the size) down to 4×4, BatchNorm on every
    layer but the first, LeakyReLU(0.2), then one Linear to a logit (train with
    BCEWithLogitsLoss).

        Conv2d(nc, ndf, 4, 2, 1) → LeakyReLU
        [Conv2d(C, 2C, 4, 2, 1, bias=False) → BatchNorm2d → LeakyReLU] × (k − 1)
        Flatten → Linear(C·16, 1)
    Init: DCGAN. spectral_norm: every Conv2d and the Linear wrapped in nn.SpectralNorm.
    """
    k = _doublings(image_size)
    layers = [nn.Conv2d(nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(slope)]
    c = ndf
    for _ in range(k - 1):
        layers += [nn.Conv2d(c, 2 * c, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(2 * c),
                   nn.LeakyReLU(slope)]
        c *= 2
    layers += [nn.Flatten(), nn.Linear(c * 16, 1)]
    D = nn.init.dcgan_init(nn.Sequential(*layers))
    return with_spectral_norm(D) if spectral_norm else D


# ----------------------------------------------------------------------------- "Make Your Own GAN"
@register
def mnist_mlp_discriminator(variant="fixed"):
    """MLP discriminator of "Make Your Own GAN" part III: (N, 1, 28, 28) -> (N, 1)
    probabilities (train with BCELoss).

    variant="fixed" (the article's improved network, which avoids mode collapse):
        Flatten → Linear(784, 200) → LeakyReLU(0.02) → LayerNorm(200) → Linear(200, 1) → Sigmoid
    variant="collapse" (its first attempt, which collapsed):
        Flatten → Linear(784, 200) → Sigmoid → Linear(200, 1) → Sigmoid
    Init: PyTorch's defaults, as in the article.
    """
    _check_variant(variant)
    if variant == "fixed":
        hidden = [nn.LeakyReLU(0.02), nn.LayerNorm(200)]
    else:
        hidden = [nn.Sigmoid()]
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 200), *hidden, nn.Linear(200, 1), nn.Sigmoid())


@register
def mnist_mlp_generator(z_dim=100, variant="fixed"):
    """MLP generator of "Make Your Own GAN" part III: z (N, 100) -> (N, 1, 28, 28)
    in [0, 1].

    variant="fixed":    Linear(100, 500) → LeakyReLU(0.2) → LayerNorm(500) → Linear(500, 784) → Sigmoid
    variant="collapse": Linear(100, 500) → Sigmoid → Linear(500, 784) → Sigmoid
    followed by Reshape(1, 28, 28). Init: PyTorch's defaults.
    """
    _check_variant(variant)
    if variant == "fixed":
        hidden = [nn.LeakyReLU(0.2), nn.LayerNorm(500)]
    else:
        hidden = [nn.Sigmoid()]
    return nn.Sequential(nn.Linear(z_dim, 500), *hidden, nn.Linear(500, 784), nn.Sigmoid(),
                         nn.Reshape(1, 28, 28))


def _check_variant(variant):
    if variant not in ("fixed", "collapse"):
        raise ValueError(f"variant must be 'fixed' or 'collapse', got {variant!r}")


# ----------------------------------------------------------------------------- Knet Julia-set MLPs
def knet_hidden_size(size):
    """The article's hidden width: round(size² · 2/3) (2243 for 58×58 images)."""
    return int(round(size * size * 2 / 3))


@register
def knet_mlp_generator(z_dim=256, size=58, hidden=None, slope=0.2):
    """Generator of "Adversarially generated Julia sets" (a Knet.jl blog post): z (N, 256) ->
    (N, 1, size, size) in [0, 1].

        Linear(z_dim, h) → LeakyReLU(0.2) → Linear(h, size²) → Sigmoid → Reshape(1, size, size)
    with h = round(size²·2/3). Init: Xavier (Glorot) uniform weights, zero biases, as Knet's
    ``xavier``.
    """
    h = hidden or knet_hidden_size(size)
    G = nn.Sequential(nn.Linear(z_dim, h), nn.LeakyReLU(slope), nn.Linear(h, size * size),
                      nn.Sigmoid(), nn.Reshape(1, size, size))
    return nn.init.xavier_init(G)


@register
def knet_mlp_discriminator(size=58, hidden=None, slope=0.2):
    """Discriminator of the Knet Julia-set GAN: (N, 1, size, size) -> (N, 1)
    probabilities (train with BCELoss).

        Flatten → Linear(size², h) → LeakyReLU(0.2) → Linear(h, 1) → Sigmoid
    Init: Xavier uniform, zero biases.
    """
    h = hidden or knet_hidden_size(size)
    D = nn.Sequential(nn.Flatten(), nn.Linear(size * size, h), nn.LeakyReLU(slope), nn.Linear(h, 1),
                      nn.Sigmoid())
    return nn.init.xavier_init(D)


# ----------------------------------------------------------------------------- tutorial toys
@register
def pattern_discriminator():
    """Part II of "Make Your Own GAN": D for the fuzzy 1010 pattern, (N, 4) -> (N, 1).

        Linear(4, 3, bias=False) → Sigmoid → Linear(3, 1, bias=False) → Sigmoid
    """
    return nn.Sequential(nn.Linear(4, 3, bias=False), nn.Sigmoid(), nn.Linear(3, 1, bias=False),
                         nn.Sigmoid())


@register
def pattern_generator():
    """Part II of "Make Your Own GAN": G for the 1010 pattern, uniform noise (N, 4) -> (N, 4).

        Linear(4, 4, bias=False) → Sigmoid → Linear(4, 4, bias=False) → Sigmoid
    """
    return nn.Sequential(nn.Linear(4, 4, bias=False), nn.Sigmoid(), nn.Linear(4, 4, bias=False),
                         nn.Sigmoid())


@register
def one_parameter_discriminator(init=0.1):
    """Part I of "Make Your Own GAN": D(x) = p·x, one weight p (a Linear(1, 1) without bias),
    starting at ``init``."""
    D = nn.Sequential(nn.Linear(1, 1, bias=False))
    D[0].weight.data[...] = np.float32(init)
    return D


@register
def one_parameter_generator(init=0.1):
    """Part I of "Make Your Own GAN": G() = p, one weight p applied to a constant input 1
    (a Linear(1, 1) without bias), starting at ``init``."""
    G = nn.Sequential(nn.Linear(1, 1, bias=False))
    G[0].weight.data[...] = np.float32(init)
    return G
