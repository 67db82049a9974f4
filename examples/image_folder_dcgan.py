"""A 64×64 DCGAN on any folder of images — the recipe of "GANs in PyTorch: the distribution of
art", with its stabilising tricks and its slerp walk through the latent space.

    python examples/image_folder_dcgan.py --images ~/pictures/paintings
    python examples/image_folder_dcgan.py            # no folder: renders Julia-set PNGs to learn

Images (PNG, JPEG, ... anything Pillow reads; sub-folders included) are center-cropped to a
square and resized to 64×64, in RGB (``--grayscale`` for one channel). All must share one size
unless ``--allow-mixed-sizes``.

Model: DCGAN with 4×4 kernels, stride 2, padding 1; BatchNorm and LeakyReLU(0.2); a Linear
layer into G's 4×4 start and out of D's 4×4 end; tanh output. ``--width`` sets the channels
(the paper's 64 is slow on a CPU; 32 by default).
Training tricks (all from the article): Gaussian noise; separate real and fake batches for D;
soft labels (real ~ U[0.9, 1.1], fake ~ U[0, 0.2]); 3% of labels flipped; Adam 2e-4 with
betas (0.5, 0.999); logit BCE. At the end, OUT/latent_walk.gif walks spherically (slerp)
through the noise space of the trained generator.
"""
if __name__ == "__main__":         # Ctrl-C while the libraries load: stop quietly (main() then
    import signal                  # reports a Ctrl-C in one line; training saves a checkpoint)
    signal.signal(signal.SIGINT, signal.SIG_DFL)

import os
import shutil
import sys
import tempfile

from minigan import gan
from minigan.data import scale_to_tanh_range
from minigan.apps import cli
from minigan.gan.folder import searched_folders
from minigan.gan.walk import make_generate, save_latent_walk

EXAMPLE = "image_folder_dcgan"


def build_parser():
    p = cli.common_parser("64x64 DCGAN on a folder of images (the art-GAN recipe).", epochs=20,
                          batch_size=64, out=os.path.join("runs", EXAMPLE))
    p.add("--images", metavar="DIR",
          help="folder of training images (default: render Julia-set PNGs into OUT/julia_pngs)")
    p.add("--grayscale", action="store_true", help="train on one channel instead of RGB")
    p.add("--image-size", type=cli.positive_int, default=64,
          help="side of the square training images: 4·2^k (16, 32, 64, 128)")
    p.add("--allow-mixed-sizes", action="store_true",
          help="accept images of different sizes (each is center-cropped and resized)")
    p.add("--width", type=cli.positive_int, default=32,
          help="channels of the highest-resolution layers (ngf = ndf; the paper uses 64)")
    p.add("--z-dim", type=cli.positive_int, default=200, help="size of the noise vector z")
    p.add("--n-julia", type=cli.positive_int, default=2000,
          help="without --images: how many Julia-set PNGs to render")
    cli.add_training_options(p, lr_g=2e-4, lr_d=2e-4, smoothing=True, flip_prob=0.03)
    cli.add_data_parallel_option(p)
    return p


def julia_folder(ctx):
    """OUT/julia_pngs, where a run without --images keeps the images it renders — refused if it
    holds files this example did not write (they would be lost, or trained on)."""
    folder = os.path.join(ctx.out, "julia_pngs")
    if os.path.lexists(folder) and not os.path.isdir(folder):
        ctx.parser.fail(f"--out {ctx.out}: {folder} is in the way (a file where the rendered "
                        f"training images go)")
    foreign = sorted(f for f in (os.listdir(folder) if os.path.isdir(folder) else [])
                     if not (f.startswith("julia_") and f.endswith(".png")))
    if foreign:
        ctx.parser.fail(f"--out {ctx.out}: {folder} holds files this example did not write "
                        f"({', '.join(foreign[:3])}); move them, or pass --images {folder}")
    return folder


def write_julia_pngs(folder, pixels):
    """Replace ``folder``'s PNGs by ``pixels`` (uint8 (N, H, W)) — called once every check has
    passed: written into a new folder beside it, then swapped in whole."""
    from minigan.data.images import save_grayscale_pngs
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".julia_pngs-", dir=os.path.dirname(folder))
    save_grayscale_pngs(pixels, staging, prefix="julia")
    old = folder + f".old-{os.getpid()}" if os.path.isdir(folder) else None
    if old:
        os.rename(folder, old)
    os.rename(staging, folder)
    if old:
        shutil.rmtree(old)


def _inside(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def output_outside_images(parser, args):
    """The output folder, never inside the image folder or a folder linked into it (a second run
    would read the first one's grids as training images): an explicit --out there is refused;
    the default, when run from inside the image folder, moves next to it
    (IMAGES-runs/image_folder_dcgan)."""
    if not any(_inside(args.out, f) for f in searched_folders(args.images)):
        return args.out
    if "out" in args.given:
        parser.fail(f"--out {args.out} is inside --images {args.images}: the run's own images "
                    f"would become training data; choose an --out outside it")
    images = os.path.realpath(args.images)
    return os.path.join(images.rstrip(os.sep) + "-runs", EXAMPLE)


@cli.command_line
def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.images is not None and not os.path.isdir(args.images):
        parser.fail(f"--images {args.images}: no such folder")
    if args.images is not None:
        args.out = output_outside_images(parser, args)
    elif not args.resume:
        cli.check_data_size(parser, args.batch_size, args.n_julia, "Julia-set images (--n-julia)")
        cli.check_memory("--n-julia/--image-size", 9 * args.n_julia * args.image_size ** 2,
                         f"{args.n_julia:,} images of {args.image_size}x{args.image_size} "
                         f"(iteration counts, then pixels)")
    try:
        gan.models._doublings(args.image_size)
    except ValueError as e:
        parser.fail(f"--image-size {args.image_size}: {e}")
    ctx = cli.start_run(parser, args, EXAMPLE, resumable=("images",))
    ctx.say(f"minigan {EXAMPLE}: device {ctx.device}, output in {ctx.out}")
    if ctx.resume:
        run_config = ctx.saved_config
        d = run_config["data"]
        folder = args.images or d["folder"]
        if not os.path.isdir(folder):
            parser.fail(f"--resume: the training images {folder} are gone (pass --images DIR)")
    else:
        if args.images is not None:
            folder, grayscale = os.path.abspath(args.images), args.grayscale
        else:
            folder, grayscale = julia_folder(ctx), True
        nc = 1 if grayscale else 3
        d = {"folder": folder, "grayscale": grayscale, "size": args.image_size,
             "allow_mixed_sizes": bool(args.allow_mixed_sizes)}
        run_config = {
            "example": EXAMPLE, "title": f"DCGAN on {os.path.basename(folder.rstrip(os.sep))}",
            "generator": {"builder": "dcgan_generator", "kwargs": {
                "z_dim": args.z_dim, "nc": nc, "ngf": args.width, "image_size": args.image_size}},
            "discriminator": {"builder": "dcgan_discriminator", "kwargs": {
                "nc": nc, "ndf": args.width, "image_size": args.image_size,
                "spectral_norm": bool(args.spectral_norm)}},
            "data": d,
        }
    rendered = None
    if not ctx.resume and args.images is None:          # rendered now, written once checks pass
        from minigan.data.julia import julia_pixels
        ctx.say(f"no --images given: rendering {args.n_julia} Julia-set images (kept in {folder})")
        rendered = julia_pixels(n=args.n_julia, size=args.image_size, seed=args.seed)
        images = rendered[:, None]
    else:
        try:
            images = gan.load_image_folder(folder, size=d["size"], grayscale=d["grayscale"],
                                           allow_mixed_sizes=d["allow_mixed_sizes"])
        except gan.ImageFolderError as e:
            if ctx.resume and args.images is None:   # the folder is the checkpoint's, not the user's:
                first = str(e).split(" (remove it")[0]  # no advice to delete files in it
                parser.fail(f"--resume: {ctx.checkpoint} names the image folder {folder}, which does "
                            f"not hold usable training images ({first}); was the checkpoint edited, "
                            f"or did the images move? pass --images DIR")
            parser.fail(f"--images: {e}")
    ctx.say(f"data: {len(images):,} images from {folder}, {'grayscale' if d['grayscale'] else 'RGB'}"
            f" {d['size']}x{d['size']}")
    cfg = cli.train_config(ctx, **cli.dcgan_fields(args))
    cli.check_data_size(parser, cfg.batch_size, len(images), f"images in {folder}")
    G, D = cli.build_models(run_config, cfg.seed)
    ctx.say(f"models: dcgan_generator/discriminator {run_config['generator']['kwargs']}; labels "
            f"real {cfg.real_label} fake {cfg.fake_label}, flip {cfg.flip_prob:g}; Adam lr "
            f"{cfg.lr_g:g}/{cfg.lr_d:g}")
    render = "gray" if d["grayscale"] else "rgb"
    trainer = gan.GANTrainer(G, D, cfg, data=images, transform=scale_to_tanh_range,
                             out_dir=ctx.out, device=ctx.device, value_range=(-1.0, 1.0),
                             render=render, run_config=run_config, quiet=args.quiet,
                             parallel=ctx.parallel)

    def walk(trainer):
        return save_latent_walk(make_generate(trainer.G, trainer.device), cfg.z_dim,
                                trainer.path("latent_walk.gif"), value_range=(-1.0, 1.0),
                                render=render, seed=cfg.seed,
                                strip_path=trainer.path("latent_walk.png"))

    write = (lambda: write_julia_pngs(folder, rendered)) if rendered is not None else None
    return cli.run_training(ctx, trainer, after=walk, before=write)


if __name__ == "__main__":
    sys.exit(main())
