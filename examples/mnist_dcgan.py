"""DCGAN on MNIST — minigan's flagship example.

The generator turns 100 Gaussian numbers into a 28×28 digit through a Linear layer and three
transposed convolutions; the discriminator is a two-layer convolutional classifier that outputs
a logit (the TensorFlow DCGAN tutorial's model, as in Flux's model zoo). Adam 2e-4,
betas (0.5, 0.999), binary cross-entropy on logits, non-saturating generator loss. Chosen by the
seeds × settings study (docs/benchmarks.md): batches of 32, and samples from an average of G's weights
with its BatchNorm statistics recomputed for it.

    python examples/mnist_dcgan.py                        # 25 epochs into runs/mnist_dcgan/
    python examples/mnist_dcgan.py --max-steps 300 --out /tmp/r
    python examples/mnist_dcgan.py --resume --max-steps 400 --out /tmp/r   # continue to 400

Data: the full MNIST training set (60,000 digits) when found in --data-dir or downloadable;
otherwise the 5,000 real digits shipped with minigan (4,500 used for training) — the first lines
of output say which. On a 2-core CPU an epoch of the 4,500 digits takes 15–40 s (each epoch
line prints its time); the grids in OUT/grids/ show digits after a few epochs.
"""
if __name__ == "__main__":         # Ctrl-C while the libraries load: stop quietly (main() then
    import signal                  # reports a Ctrl-C in one line; training saves a checkpoint)
    signal.signal(signal.SIGINT, signal.SIG_DFL)

import os
import sys
import warnings


from minigan import gan
from minigan.data import (DatasetNotFoundError, MNISTFallbackWarning, default_data_dir, load_mnist,
                          scale_to_tanh_range)
from minigan.data.idx import IDXFormatError
from minigan.eval import Evaluator
from minigan.eval.hook import mnist_epoch_metrics
from minigan.apps import cli

EXAMPLE = "mnist_dcgan"


def build_parser():
    p = cli.common_parser("DCGAN on MNIST (minigan's flagship example).", epochs=25,
                          batch_size=32, out=os.path.join("runs", EXAMPLE))
    p.add("--data-dir", metavar="DIR",
          help="folder with the MNIST IDX files (searched, and downloaded into; default: "
               "$MINIGAN_DATA, else ~/.cache/minigan)")
    p.add("--no-download", action="store_true",
          help="do not try to download MNIST (use local files or the offline digits)")
    p.add("--dataset", choices=["mnist", "fashion"], default="mnist",
          help="MNIST digits or Fashion-MNIST clothes (same format)")
    p.add("--z-dim", type=cli.positive_int, default=100, help="size of the noise vector z")
    # the seeds x settings study (docs/benchmarks.md) chose these, and batch 32
    cli.add_training_options(p, lr_g=2e-4, lr_d=2e-4, ema=0.999, ema_statistics=2000)
    cli.add_data_parallel_option(p)
    return p


def load_data(ctx, dataset):
    """uint8 (N, 1, 28, 28) training images and a description of where they came from."""
    args = ctx.args
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            images, _, source = load_mnist("train", root=args.data_dir, download=not args.no_download,
                                           dataset=dataset, return_source=True)
        except DatasetNotFoundError as e:
            ctx.parser.fail(e.one_line)
        except IDXFormatError as e:
            ctx.parser.fail(f"{e} (delete or replace this file: a missing one is downloaded again)")
    ctx.say(f"data: {source}")
    if source.kind == "offline-5k":
        root = args.data_dir or default_data_dir()
        ctx.say(f"note: the full MNIST set was not found locally and could not be downloaded. "
                f"To train on all 60,000 digits, put the four MNIST IDX .gz files into "
                f"{os.path.join(root, 'mnist')} (or pass --data-dir DIR), or run once online.")
    for w in caught:                     # the fallback warning is replaced by the note above
        if not issubclass(w.category, MNISTFallbackWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return images[:, None], source


def score_last_samples(ctx, dataset):
    """After a run that stopped mid-epoch (--max-steps), whose last scores (if any) are older
    than its last step: score the final generator once with the standard network."""
    def after(trainer):
        if dataset != "mnist" or trainer.step % trainer.steps_per_epoch == 0:
            return []
        try:
            evaluator = Evaluator.load(verbose=False)
        except (OSError, ValueError) as e:
            ctx.say(f"minigan.eval: no sample-quality scores ({e})")
            return []
        n = int(evaluator.meta.get("real_fd_n") or 500)
        scores = evaluator.score(trainer.sample(n), value_range=trainer.value_range)
        ctx.say(f"samples at step {trainer.step}: {scores} ({evaluator.describe()})")
        return []
    return after


@cli.command_line
def main(argv=None):
    parser = build_parser()
    args, ctx = cli.begin(parser, argv, EXAMPLE)
    if ctx.resume:
        run_config = ctx.saved_config
        dataset = run_config["data"]["dataset"]
    else:
        dataset = args.dataset
        run_config = {
            "example": EXAMPLE,
            "title": f"DCGAN on {'MNIST' if dataset == 'mnist' else 'Fashion-MNIST'}",
            "generator": {"builder": "dcgan28_generator", "kwargs": {"z_dim": args.z_dim}},
            "discriminator": {"builder": "dcgan28_discriminator",
                              "kwargs": {"spectral_norm": bool(args.spectral_norm)}},
            "data": {"dataset": dataset},
        }
    images, source = load_data(ctx, dataset)
    run_config["data"].update(source=source.kind, count=int(len(images)))
    cfg = cli.train_config(ctx, **cli.dcgan_fields(args))
    cli.check_data_size(parser, cfg.batch_size, len(images), "training images")
    G, D = cli.build_models(run_config, cfg.seed)
    n_g = sum(p.data.size for p in G.parameters())
    n_d = sum(p.data.size for p in D.parameters())
    ctx.say(f"models: G {n_g:,} parameters (dcgan28_generator), D {n_d:,} (dcgan28_discriminator); "
            f"batch {cfg.batch_size}, Adam lr G {cfg.lr_g:g} D {cfg.lr_d:g}, betas {cfg.betas_g}")
    ctx.say(f"G = {G}\nD = {D}")            # what trains (examples/dcgan_from_scratch.py builds them)
    trainer = gan.GANTrainer(G, D, cfg, data=images, transform=scale_to_tanh_range,
                             out_dir=ctx.out, device=ctx.device, value_range=(-1.0, 1.0),
                             render="gray", grid_scale=2, run_config=run_config, quiet=args.quiet,
                             parallel=ctx.parallel,
                             epoch_metrics=mnist_epoch_metrics(dataset, data_dir=args.data_dir))
    return cli.run_training(ctx, trainer, after=score_last_samples(ctx, dataset))


if __name__ == "__main__":
    sys.exit(main())
