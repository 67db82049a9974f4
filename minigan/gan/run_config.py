"""The configuration a checkpoint keeps to rebuild its run (model builders and their arguments,
training settings, data source, image shape and range), checked before anything uses it: a
resume, a latent walk, an evaluation. A hand-edited or damaged entry is one line naming the
file and the entry, never a traceback from deep inside a builder or the trainer."""
import inspect
import math
import numbers

from ..files.checkpoint import CheckpointError
from .config import TrainConfig
from .models import BUILDERS

__all__ = ["check_run_config", "check_builder_spec"]

RENDERS = ("gray", "rgb", "heatmap", "none")
# what each example reads from its saved "data" entry when it resumes
DATA_KEYS = {"mnist_dcgan": ("dataset",), "mnist_mlp_gan": ("dataset",),
             "julia_gan": ("value_range", "n_images", "size", "variant", "scale"),
             "image_folder_dcgan": ("folder", "size", "grayscale", "allow_mixed_sizes")}
DATASETS = ("mnist", "fashion")


def _number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def _count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def _flag(v):
    return v is None or isinstance(v, bool)        # null: an option not given (off)


def _pair(v):
    return isinstance(v, (list, tuple)) and len(v) == 2 and all(_number(x) for x in v) and v[0] < v[1]


def check_builder_spec(spec, role, path):
    """``spec`` = {"builder": a registered name, "kwargs": {...}} whose arguments the builder
    takes, each of its default's type (whole number, number, true/false)."""
    where = f"{path}: its {role}"
    if not isinstance(spec, dict) or not isinstance(spec.get("builder"), str):
        raise CheckpointError(f"{where} entry is {spec!r}, expected {{\"builder\": name, \"kwargs\": {{...}}}}")
    name, kwargs = spec["builder"], spec.get("kwargs", {})
    if name not in BUILDERS:
        raise CheckpointError(f"{where} names the builder {name!r}, which minigan does not have "
                              f"(known: {', '.join(sorted(BUILDERS))})")
    if not isinstance(kwargs, dict):
        raise CheckpointError(f"{where}'s kwargs are {kwargs!r}, expected a JSON object")
    params = inspect.signature(BUILDERS[name]).parameters
    for key, value in kwargs.items():
        if key not in params:
            raise CheckpointError(f"{where}'s builder {name} has no option {key!r} (it takes "
                                  f"{', '.join(params)})")
        default = params[key].default
        ok = {bool: lambda v: isinstance(v, bool), int: _count,
              float: _number}.get(type(default), lambda v: True)(value)
        if not ok:
            kind = {bool: "true or false", int: "a whole number >= 1", float: "a finite number"}
            raise CheckpointError(f"{where}'s option {key} is {value!r}, expected "
                                  f"{kind[type(default)]}")


def check_run_config(config, path, roles=("generator", "discriminator")):
    """Raise CheckpointError naming ``path`` and the entry unless ``config`` (a checkpoint's
    "config") can rebuild the run: builders of ``roles``, training settings, data source,
    image shape, value range, rendering. Returns the TrainConfig."""
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: its config is {type(config).__name__}, expected a JSON object")
    try:
        train = TrainConfig.from_dict(config.get("train"))
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: its training settings are not usable: {e}") from None
    for role in roles:
        check_builder_spec(config.get(role), role, path)
    z_dim = (config.get("generator") or {}).get("kwargs", {}).get("z_dim")
    if "generator" in roles and z_dim is not None and z_dim != train.z_dim:
        raise CheckpointError(f"{path}: its generator takes z_dim {z_dim} but its training "
                              f"settings say {train.z_dim}")
    shape = config.get("image_shape")
    if shape is not None and not (isinstance(shape, list) and 1 <= len(shape) <= 3
                                  and all(_count(n) for n in shape)):
        raise CheckpointError(f"{path}: its image_shape is {shape!r}, expected [C, H, W] of whole "
                              f"numbers >= 1")
    if "value_range" in config and not _pair(config["value_range"]):
        raise CheckpointError(f"{path}: its value_range is {config['value_range']!r}, expected "
                              f"[low, high] with low < high")
    if config.get("render", "gray") not in RENDERS:
        raise CheckpointError(f"{path}: its render is {config.get('render')!r}, expected one of "
                              f"{', '.join(RENDERS)}")
    _check_data(config.get("data"), path)
    needed = DATA_KEYS.get(config.get("example"), ())
    missing = [k for k in needed if k not in (config.get("data") or {})]
    if missing:
        raise CheckpointError(f"{path}: its data entry lacks {', '.join(missing)} (what "
                              f"{config['example']} needs to find its data again)")
    return train


def _check_data(data, path):
    """The data source: each entry an example writes, of its type."""
    if data is None:
        return
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: its data entry is {data!r}, expected a JSON object")
    checks = {"dataset": (lambda v: v in DATASETS, f"one of {', '.join(DATASETS)}"),
              "folder": (lambda v: isinstance(v, str) and v.strip() != "", "a folder's path"),
              "source": (lambda v: isinstance(v, str), "a string"),
              "variant": (lambda v: isinstance(v, str), "a string"),
              "scale": (lambda v: isinstance(v, str), "a string"),
              "count": (_count, "a whole number >= 1"), "n_images": (_count, "a whole number >= 1"),
              "size": (_count, "a whole number >= 1"),
              "grayscale": (_flag, "true, false or null"),
              "allow_mixed_sizes": (_flag, "true, false or null"),
              "value_range": (_pair, "[low, high] with low < high")}
    for key, (ok, expected) in checks.items():
        if key in data and not ok(data[key]):
            raise CheckpointError(f"{path}: its data entry {key!r} is {data[key]!r}, expected "
                                  f"{expected}")
