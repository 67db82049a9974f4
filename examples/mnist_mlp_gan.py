"""An MLP GAN on MNIST — "Make Your Own GAN", part III — and its mode-collapse fix.

The article's first attempt (``--collapse``): D 784→200 sigmoid →1 sigmoid, G 100→500 sigmoid
→784 sigmoid, plain SGD (lr 0.01), BCE loss. Its generator soon produces the same spiky image
for every noise vector — mode collapse — and the trainer's diversity check says so.

The fix (the default), three changes applied to both networks:
  * LeakyReLU instead of sigmoid in the hidden layer (no vanishing gradients),
  * LayerNorm after it (keeps the hidden signals centred and scaled),
  * Adam (lr 1e-4) instead of SGD.
    D: 784 → 200 → LeakyReLU(0.02) → LayerNorm(200) → 1 → sigmoid
    G: 100 → 500 → LeakyReLU(0.2)  → LayerNorm(500) → 784 → sigmoid

As in the article: one image per step (batch 1), pixels in [0, 1], binary cross-entropy on D's
probabilities. (Unlike the article, each step reuses one G(z) for D's fake step and G's step.)

Noise: Gaussian by default. The blog post fed G uniform noise in [0, 1) (``--noise uniform``);
on the 4,500 offline digits even the fixed networks then collapse within an epoch, in minigan
and in PyTorch alike, while with Gaussian noise (which the author's later book switches to) the
fix holds. The sigmoid + SGD networks collapse with either noise: the fix needs both.

    python examples/mnist_mlp_gan.py                      # the fix, 4 epochs
    python examples/mnist_mlp_gan.py --collapse --out runs/mnist_mlp_collapse
"""
if __name__ == "__main__":         # Ctrl-C while the libraries load: stop quietly (main() then
    import signal                  # reports a Ctrl-C in one line; training saves a checkpoint)
    signal.signal(signal.SIGINT, signal.SIG_DFL)

import os
import sys
import warnings

from minigan import gan
from minigan.data import DatasetNotFoundError, load_mnist, scale_to_unit_range
from minigan.data.idx import IDXFormatError
from minigan.apps import cli

EXAMPLE = "mnist_mlp_gan"


def build_parser():
    p = cli.common_parser("MLP GAN on MNIST ('Make Your Own GAN' part III) and its mode-collapse "
                          "fix.", epochs=4, batch_size=1, out=os.path.join("runs", EXAMPLE),
                          log_every=20)
    p.add("--collapse", action="store_true",
          help="the article's first attempt (sigmoid, no LayerNorm, SGD lr 0.01), which "
               "collapses onto one image")
    p.add("--data-dir", metavar="DIR", help="folder with the MNIST IDX files")
    p.add("--no-download", action="store_true", help="do not try to download MNIST")
    p.add("--noise", choices=["normal", "uniform"], default="normal",
          help="distribution of G's 100 inputs (the blog post: uniform in [0, 1))")
    p.add("--lr", type=cli.positive_float,
          help="learning rate for G and D (default: 1e-4 with Adam; 0.01 with SGD for --collapse)")
    cli.add_data_parallel_option(p)
    return p


@cli.command_line
def main(argv=None):
    parser = build_parser()
    args, ctx = cli.begin(parser, argv, EXAMPLE)
    if ctx.resume:
        run_config = ctx.saved_config
    else:
        variant = "collapse" if args.collapse else "fixed"
        run_config = {
            "example": EXAMPLE,
            "title": "MLP GAN on MNIST" + (" (collapsing variant)" if args.collapse else ""),
            "generator": {"builder": "mnist_mlp_generator", "kwargs": {"variant": variant}},
            "discriminator": {"builder": "mnist_mlp_discriminator", "kwargs": {"variant": variant}},
            "data": {"dataset": "mnist"},
        }
    variant = run_config["generator"]["kwargs"]["variant"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # the data line below says what was found
        try:
            images, _, source = load_mnist("train", root=args.data_dir,
                                           download=not args.no_download, return_source=True)
        except DatasetNotFoundError as e:
            parser.fail(e.one_line)
        except IDXFormatError as e:
            parser.fail(f"{e} (delete or replace this file: a missing one is downloaded again)")
    ctx.say(f"data: {source}")
    run_config["data"].update(source=source.kind, count=int(len(images)))
    sgd = variant == "collapse"
    lr = args.lr or (0.01 if sgd else 1e-4)
    cfg = cli.train_config(
        ctx, z_dim=100, noise=args.noise, loss="bce", optimizer="sgd" if sgd else "adam", lr_g=lr,
        lr_d=lr, betas_g=(0.9, 0.999), betas_d=(0.9, 0.999), health_patience=500)
    cli.check_data_size(parser, cfg.batch_size, len(images), "training images")
    G, D = cli.build_models(run_config, cfg.seed)
    ctx.say(f"variant: {variant} ({'sigmoid + SGD, expect mode collapse' if sgd else 'LeakyReLU + LayerNorm + Adam'}), "
            f"{cfg.optimizer} lr {cfg.lr_g:g}, batch {cfg.batch_size}, {cfg.noise} noise")
    trainer = gan.GANTrainer(G, D, cfg, data=images[:, None], transform=scale_to_unit_range,
                             out_dir=ctx.out, device=ctx.device, value_range=(0.0, 1.0),
                             render="gray", grid_scale=2, run_config=run_config, quiet=args.quiet,
                             parallel=ctx.parallel)
    return cli.run_training(ctx, trainer)


if __name__ == "__main__":
    sys.exit(main())
