"""minigan.optim: optimizers with PyTorch's update rules and state_dict layout."""
from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam"]
