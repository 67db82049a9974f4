"""Checks of the layers' constructor arguments, with errors that name the layer."""
import numpy as np


def pair(value, name="value", layer=None, minimum=None):
    """An int or a pair -> a pair of ints; with ``minimum``, each must be at least that
    (a clear error naming ``layer`` and ``name`` otherwise)."""
    where = f"{layer}: " if layer else ""
    if isinstance(value, (int, np.integer)):
        value = (int(value), int(value))
    else:
        try:
            value = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"{where}{name} must be an int or a pair of ints, got {value!r}") from None
    if len(value) != 2:
        raise ValueError(f"{where}{name} must be an int or a pair of ints, got {value!r}")
    if minimum is not None and min(value) < minimum:
        raise ValueError(f"{where}{name} must be at least {minimum}, got {value}")
    return value


def positive_count(layer, name, value):
    """``value`` as an int >= 1, or a clear error naming the layer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


def positive_number(layer, name, value):
    """``value`` as a finite float > 0 (an eps), or a clear error naming the layer."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a finite number > 0, got {value!r}")
    return float(value)


def fraction(layer, name, value, allow_none=False):
    """``value`` as a float in [0, 1] (a momentum; None too with ``allow_none``), or a clear
    error naming the layer."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0 <= value <= 1:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{layer}: {name} must be a number in [0, 1]{extra}, got {value!r}")
    return float(value)


def flag(layer, name, value):
    """``value`` as a bool (True/False only), or a clear error naming the layer."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{layer}: {name} must be True or False, got {value!r}")
    return bool(value)
