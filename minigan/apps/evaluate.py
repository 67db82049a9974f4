"""Score a saved MNIST generator: ``python -m minigan.eval CHECKPOINT`` (this command line is
an application: minigan/eval/__main__.py only calls :func:`main`).

    python -m minigan.eval runs/mnist_dcgan/checkpoint.npz           # 1,000 samples
    python -m minigan.eval runs/mnist_dcgan/checkpoint.npz --n 5000 --json
    python -m minigan.eval runs/mnist_dcgan/samples.npy              # from --export-samples

A checkpoint (``minigan.gan`` format) is rebuilt from its own configuration — the
generator's builder and arguments, the noise it was trained on, its output range — and
sampled in eval mode with noise seeded by --seed. A ``.npy`` file holds samples directly
((N, 1, 28, 28) or (N, 28, 28); give --value-range if they are not in [-1, 1]). The numbers
are those of minigan.eval.metrics; the line "real held-out digits" gives the same numbers
for real MNIST test digits, the best a generator can hope for.

Exit codes: 0 ok, 2 unusable input (one line on stderr).
"""
import argparse
import json
import math
import os

import numpy as np

from ..backend import asnumpy, cuda_available, to_device
from ..eval.classifier import default_classifier_path, read_classifier
from ..eval.evaluator import Evaluator
from ..files.checkpoint import CheckpointError, read_meta
from ..files.lock import FolderLock
from ..gan.run_config import check_run_config
from ..gan.walk import generator_from_checkpoint
from .failures import UsageError, command_line, note_options



def generate_from_checkpoint(path, n, seed=0, device="cpu", batch_size=250):
    """(samples float32 (n, C, H, W), value range (lo, hi), description) from a minigan GAN
    checkpoint, its generator rebuilt from the checkpoint's configuration."""
    try:
        config = read_meta(path).get("config", {})
    except CheckpointError as e:
        raise UsageError(str(e)) from None
    spec = config.get("generator") if isinstance(config, dict) else None
    if spec is None:
        raise UsageError(f"{path}: the checkpoint's configuration names no generator builder "
                         f"(config keys: {sorted(config) if isinstance(config, dict) else config})")
    try:
        train = check_run_config(config, path, roles=("generator",))
        G, config, meta = generator_from_checkpoint(path, device)   # only G's members are read
    except CheckpointError as e:
        raise UsageError(str(e)) from None
    except (KeyError, ValueError, TypeError) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        raise UsageError(f"{path}: its generator weights do not fit the generator it names "
                         f"({spec.get('builder')}): {message}") from None
    if meta.get("status", "ok") != "ok":
        raise UsageError(f"{path} is marked {meta['status']!r} (saved when training failed); its "
                         f"weights are not usable")
    z_dim, noise = train.z_dim, train.noise
    rng = np.random.default_rng(seed)
    if noise == "normal":
        z = rng.standard_normal((n, z_dim), dtype=np.float32)
    elif noise == "uniform":
        z = rng.random((n, z_dim), dtype=np.float32)
    else:
        z = np.ones((n, z_dim), dtype=np.float32)
    out = [asnumpy(G(to_device(z[i:i + batch_size], device))) for i in range(0, n, batch_size)]
    samples = np.concatenate(out).astype(np.float32)
    shape = config.get("image_shape")
    if shape:
        samples = samples.reshape((n,) + tuple(shape))
    value_range = tuple(config.get("value_range", (-1.0, 1.0)))
    what = (f"{spec.get('builder')} from {path} (step {meta.get('step')}, epoch "
            f"{meta.get('step', 0) / max(meta.get('steps_per_epoch') or 1, 1):.2f})")
    return samples, value_range, what


def read_samples(path):
    """The samples of a .npy file, its header checked before any data are read: not a .npy
    file, Python objects, a shape that is not digits, or fewer bytes than the header declares
    are refused by name without reading (or allocating) the data."""
    fmt = np.lib.format
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            raise UsageError(f"{path}: not a .npy file (expected samples saved by --export-samples "
                             f"or np.save)")
        f.seek(0)
        try:
            version = fmt.read_magic(f)
            read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, _, dtype = read_header(f)
        except ValueError as e:
            raise UsageError(f"{path}: a damaged .npy header ({e})") from None
        data_at, size = f.tell(), os.fstat(f.fileno()).st_size
    if dtype.hasobject or dtype.kind not in "uif":
        raise UsageError(f"{path}: expected numbers, got dtype {dtype}")
    if shape[1:] not in ((28, 28), (1, 28, 28)):
        raise UsageError(f"{path}: expected samples of shape (N, 28, 28) or (N, 1, 28, 28), got {shape}")
    declared = math.prod(shape) * dtype.itemsize
    if size - data_at != declared:
        raise UsageError(f"{path}: its header declares {shape} {dtype} ({declared:,} bytes of data), "
                         f"the file holds {size - data_at:,}")
    return np.load(path, allow_pickle=False)


@command_line(prog="python -m minigan.eval")
def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m minigan.eval",
                                description="Score generated MNIST digits: classes covered, KL "
                                            "from uniform, confidence, Fréchet distance, "
                                            "inception score.")
    p.add_argument("path", help="a minigan GAN checkpoint (.npz) or a samples file (.npy)")
    p.add_argument("--n", type=int, default=None,
                   help="samples to draw from a checkpoint (default: as many as the real held-out "
                        "digits of the floor line: 500 offline, 1000 with the full MNIST)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    p.add_argument("--value-range", default=None,
                   help="range of a .npy file's samples: tanh ([-1, 1], default) or unit "
                        "([0, 1]); a checkpoint knows its own")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    p.add_argument("--classifier", default=None,
                   help="classifier weights to read (default: the standard network shipped with "
                        "minigan; any other file gives non-standard Fréchet distances)")
    p.add_argument("--retrain", action="store_true",
                   help="train a new classifier first (~1-2 min; saved in the per-user cache, or "
                        "at --classifier) and score with it: non-standard numbers")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = p.parse_args(argv)
    note_options(p._option_string_actions)
    if args.device == "auto":
        args.device = "cuda" if cuda_available() else "cpu"
    if args.value_range not in (None, "tanh", "unit"):
        p.error(f"--value-range must be tanh or unit, got {args.value_range!r}")
    if args.seed < 0:
        p.error(f"--seed must be at least 0, got {args.seed}")
    if args.n is not None and args.n < 2:
        p.error("--n must be at least 2 (a covariance needs two samples)")
    try:
        if not os.path.isfile(args.path):
            raise UsageError(f"{args.path}: no such file")
        if args.retrain and args.classifier and os.path.lexists(args.classifier):
            try:                                  # replacing old weights is the point; anything else
                read_classifier(args.classifier)  # a user saved there must not be lost
            except ValueError as e:
                raise UsageError(f"--classifier {e}; --retrain would replace it: choose another "
                                 f"path") from None
        if args.retrain:      # it writes the classifier: no other run may write that folder now
            target = os.path.dirname(os.path.abspath(args.classifier or default_classifier_path()))
            FolderLock(target, "--classifier folder").acquire()
        try:
            evaluator = Evaluator.load(args.classifier, device=args.device, retrain=args.retrain,
                                       verbose=not args.json)
        except FileNotFoundError as e:
            raise UsageError(str(e)) from None
        if args.path.endswith(".npy"):
            samples = read_samples(args.path)
            value_range = args.value_range or "tanh"
            what = f"{len(samples)} samples from {args.path}"
        else:
            n = args.n or int(evaluator.meta.get("real_fd_n") or 1000)
            samples, value_range, what = generate_from_checkpoint(args.path, n, args.seed,
                                                                  args.device)
            if args.value_range:
                value_range = args.value_range
        scores = evaluator.score(samples, value_range=value_range)
    except (ValueError, TypeError) as e:          # unusable samples or classifier file
        raise UsageError(str(e)) from None
    meta = evaluator.meta
    if args.json:
        doc = dict(scores.as_row(), n=scores.n, source=what, classifier_standard=meta["standard"],
                   classifier_sha256=meta["sha256"],
                   classifier_accuracy=meta.get("test_accuracy"), real_fd=meta.get("real_fd"),
                   real_fd_n=meta.get("real_fd_n"), real_inception=meta.get("real_inception"))
        print(json.dumps({k: (v.item() if hasattr(v, "item") else v) for k, v in doc.items()}))
        return 0
    print(f"scored {what}")
    print(evaluator.describe())
    print(scores)
    if meta.get("real_fd") is not None:
        print(f"real held-out digits ({meta.get('real_fd_n')}): Fréchet distance "
              f"{meta['real_fd']:.3f}, inception score "
              f"{meta.get('real_inception', float('nan')):.3f} "
              f"(classifier accuracy {meta.get('test_accuracy', float('nan')):.2%}, "
              f"{meta.get('data')} data)")
    return 0

