"""A GAN that learns to draw Julia-set fractals — "Adversarially generated Julia sets" (Knet).

Training data: 6,000 escape-time images of Julia sets of z → z² + c, 58×58 pixels, computed
by minigan's numba kernel (minigan.data.julia), each pixel's iteration count scaled to [0, 1]
(log scale by default, which spreads the many small counts apart).

Models (the article's): multi-layer perceptrons with one hidden layer of round(58²·2/3) = 2243
units, LeakyReLU(0.2), a sigmoid output, Xavier initialisation.
    G: z (256, Gaussian) → 2243 → 3364 = 58·58 pixels in [0, 1]
    D: 3364 → 2243 → 1 probability
Adam with the article's unequal learning rates, 0.003 for G and 0.0003 for D; batch 32;
binary cross-entropy (the article halves D's loss; we report the sum of its two terms).
Heatmap grids of fixed-noise samples are saved at every epoch.

A warning from experience (and from the article itself, which notes that "you can easily slip
into a situation where either the G or the D loss converges to zero"): on the default 'varied'
Julia sets this MLP recipe is fragile. In our runs D soon rejects every fake, the generator's
sigmoid outputs saturate, and the trainer prints "the generator's loss is exploding" within two
epochs — also with ``--lr-g 0.0003``, ``--scale linear`` or ``--variant article``. It is kept
as the article's recipe, to watch the failure the health check describes; ``--conv`` is the
model to use for pictures.

``--conv`` swaps in a DCGAN (4×4 transposed convolutions with BatchNorm, 64×64 images, tanh
output in [-1, 1], Adam 2e-4 with betas (0.5, 0.999), logits) — the convolutional model the
article suggests trying.

    python examples/julia_gan.py
    python examples/julia_gan.py --conv --out runs/julia_dcgan
"""
if __name__ == "__main__":         # Ctrl-C while the libraries load: stop quietly (main() then
    import signal                  # reports a Ctrl-C in one line; training saves a checkpoint)
    signal.signal(signal.SIGINT, signal.SIG_DFL)

import os
import sys

import numpy as np

from minigan import gan
from minigan.data.julia import julia_images, scale_julia
from minigan.apps import cli

EXAMPLE = "julia_gan"


def build_parser():
    p = cli.common_parser("GAN on Julia-set fractals (after the Knet article).", epochs=20,
                          batch_size=32, out=os.path.join("runs", EXAMPLE))
    p.add("--conv", action="store_true", help="a DCGAN on 64x64 images instead of the MLPs")
    p.add("--n-images", type=cli.positive_int, default=6000, help="training images to generate")
    p.add("--size", type=cli.positive_int,
          help="image size in pixels (default: 58 for the MLPs, 64 for --conv; --conv needs "
               "4·2^k: 16, 32, 64, 128)")
    p.add("--scale", choices=["log", "linear"], default="log",
          help="how iteration counts map to pixel values")
    p.add("--variant", choices=["varied", "article"], default="varied",
          help="Julia constants: 'varied' sweeps c around a circle (diverse shapes); 'article' "
               "reproduces the article's code, where all c are nearly equal")
    p.add("--width", type=cli.positive_int, default=32,
          help="--conv only: channels of the DCGAN's widest-resolution layer (ngf = ndf)")
    p.add("--lr-g", type=cli.positive_float, help="G learning rate (default: 0.003; --conv 2e-4)")
    p.add("--lr-d", type=cli.positive_float, help="D learning rate (default: 0.0003; --conv 2e-4)")
    cli.add_data_parallel_option(p)
    return p


def fresh_config(args, parser):
    if args.conv:
        size = args.size or 64
        try:
            gan.models._doublings(size)
        except ValueError as e:
            parser.fail(f"--size {size}: {e}")
        models = {"generator": {"builder": "dcgan_generator",
                                "kwargs": {"z_dim": 100, "nc": 1, "ngf": args.width, "image_size": size}},
                  "discriminator": {"builder": "dcgan_discriminator",
                                    "kwargs": {"nc": 1, "ndf": args.width, "image_size": size}}}
        train = dict(z_dim=100, loss="bce_logits", lr_g=args.lr_g or 2e-4, lr_d=args.lr_d or 2e-4,
                     betas_g=(0.5, 0.999), betas_d=(0.5, 0.999))
        value_range = (-1.0, 1.0)
    else:
        size = args.size or 58
        if size < 4:
            parser.fail(f"--size must be at least 4, got {size}")
        models = {"generator": {"builder": "knet_mlp_generator", "kwargs": {"z_dim": 256, "size": size}},
                  "discriminator": {"builder": "knet_mlp_discriminator", "kwargs": {"size": size}}}
        train = dict(z_dim=256, loss="bce", lr_g=args.lr_g or 0.003, lr_d=args.lr_d or 0.0003,
                     betas_g=(0.9, 0.999), betas_d=(0.9, 0.999))
        value_range = (0.0, 1.0)
    run_config = dict(models, example=EXAMPLE,
                      title="Julia-set GAN" + (" (DCGAN)" if args.conv else " (MLP, after Knet)"),
                      data={"n_images": args.n_images, "size": size, "scale": args.scale,
                            "variant": args.variant, "value_range": list(value_range)})
    return run_config, train


@cli.command_line
def main(argv=None):
    parser = build_parser()
    args, ctx = cli.begin(parser, argv, EXAMPLE)
    if ctx.resume:
        run_config, train = ctx.saved_config, {}
    else:
        run_config, train = fresh_config(args, parser)
    d = run_config["data"]
    value_range = tuple(d["value_range"])
    cli.check_data_size(parser, ctx.saved_config["train"]["batch_size"] if ctx.resume else args.batch_size,
                        d["n_images"], "Julia-set images (--n-images)")
    cli.check_memory("--n-images/--size", 9 * d["n_images"] * d["size"] ** 2,
                     f"{d['n_images']:,} images of {d['size']}x{d['size']} (iteration counts, then pixels)")
    counts = julia_images(n=d["n_images"], size=d["size"], seed=args.seed if not ctx.resume
                          else ctx.saved_config["train"]["seed"], variant=d["variant"])
    data = np.clip(counts, 0, 255).astype(np.uint8)[:, None]       # (N, 1, S, S) counts 1..255
    ctx.say(f"data: {len(data):,} Julia-set images of {d['size']}x{d['size']} (numba kernel, "
            f"'{d['variant']}' constants), {d['scale']} scale to {list(value_range)}")

    def transform(batch):
        return scale_julia(batch, mode=d["scale"], value_range=value_range)

    cfg = cli.train_config(ctx, **train, n_fixed=36)
    G, D = cli.build_models(run_config, cfg.seed)
    ctx.say(f"models: {run_config['generator']['builder']} / {run_config['discriminator']['builder']}"
            f" {run_config['generator']['kwargs']}; Adam lr G {cfg.lr_g:g}, D {cfg.lr_d:g}; "
            f"batch {cfg.batch_size}")
    trainer = gan.GANTrainer(G, D, cfg, data=data, transform=transform, out_dir=ctx.out,
                             device=ctx.device, value_range=value_range, render="heatmap",
                             grid_scale=2, run_config=run_config, quiet=args.quiet,
                             parallel=ctx.parallel)
    return cli.run_training(ctx, trainer)


if __name__ == "__main__":
    sys.exit(main())
