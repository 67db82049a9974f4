"""minigan.nn: layers and losses, each with a hand-written backward (PyTorch's names)."""
from . import init
from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import Conv2d
from .conv_transpose import ConvTranspose2d
from .dropout import Dropout
from .layernorm import LayerNorm
from .linear import Linear
from .loss import BCELoss, BCEWithLogitsLoss, MSELoss
from .module import Module, Parameter
from .reshape import Flatten, Reshape
from .sequential import Sequential

__all__ = [
    "Module", "Parameter", "Sequential", "Linear", "Conv2d", "ConvTranspose2d",
    "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
    "Dropout", "Flatten", "Reshape", "BCEWithLogitsLoss", "BCELoss", "MSELoss", "init",
]
from .cross_entropy import CrossEntropyLoss
from .hinge import GeneratorHingeLoss, HingeLoss
from .pooling import AvgPool2d, MaxPool2d
from .spectral_norm import SpectralNorm

__all__ += ["CrossEntropyLoss", "MaxPool2d", "AvgPool2d", "HingeLoss", "GeneratorHingeLoss",
            "SpectralNorm"]
