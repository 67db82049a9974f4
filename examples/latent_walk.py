"""A walk through a trained generator's latent space, as a looping GIF.

Reads a checkpoint written by any of the image examples, rebuilds its generator from the
builder named in the checkpoint's configuration, and renders several walks side by side: each
visits a few random noise vectors and moves between them by spherical linear interpolation
(slerp), so the images morph smoothly into each other and the animation loops.

    python examples/latent_walk.py                         # runs/mnist_dcgan/checkpoint.npz
    python examples/latent_walk.py --checkpoint runs/julia_gan/checkpoint.npz --walks 9

Writes OUT/latent_walk.gif and OUT/latent_walk.png (the first walk's frames in a row); OUT is
the checkpoint's folder unless --out is given. Nothing is trained: --epochs, --max-steps and
--resume are accepted for a uniform command line and ignored; --batch-size sets the generation
batch; --export-samples N writes N samples of the generator to OUT/samples.npy.
"""
if __name__ == "__main__":         # Ctrl-C while the libraries load: stop quietly (main() then
    import signal                  # reports a Ctrl-C in one line; training saves a checkpoint)
    signal.signal(signal.SIGINT, signal.SIG_DFL)

import argparse
import math
import os
import sys

import numpy as np

from minigan.apps import cli
from minigan.files import CheckpointError, atomic_write
from minigan.gan.plots import GIF_MAX_FRAME_MS
from minigan.gan.walk import generator_from_checkpoint, make_generate, save_latent_walk

EXAMPLE = "latent_walk"
DEFAULT_CHECKPOINT = os.path.join("runs", "mnist_dcgan", "checkpoint.npz")


def build_parser():
    p = cli.ExampleParser(description="Slerp walk GIF through a trained generator's latent space.")
    p.add("--checkpoint", metavar="PATH", default=DEFAULT_CHECKPOINT,
          help="checkpoint.npz written by an example")
    p.add("--out", metavar="DIR", help="where to write (default: the checkpoint's folder)")
    p.add("--walks", type=cli.positive_int, default=16, help="walks shown side by side")
    p.add("--points", type=cli.positive_int, default=4, help="noise vectors each walk visits")
    p.add("--steps", type=cli.positive_int, default=12, help="frames between two points")
    p.add("--frame-ms", type=frame_ms, default=80, help="milliseconds per frame (10..655350)")
    p.add("--scale", type=cli.positive_int, default=2, help="pixel size of the output")
    p.add("--seed", type=cli.nonneg_int, default=0, help="random seed for the walks")
    p.add("--device", choices=["cpu", "cuda", "auto"], default="auto", help="where G runs")
    p.add("--batch-size", type=cli.positive_int, default=256, help="generation batch size")
    p.add("--export-samples", type=cli.nonneg_int, default=0, metavar="N",
          help="also write N samples of the generator to OUT/samples.npy")
    ignored = "accepted for a uniform command line; nothing is trained here"
    p.add("--epochs", type=cli.positive_int, help=ignored)
    p.add("--max-steps", type=cli.positive_int, help=ignored)
    p.add("--resume", action="store_true", help=ignored)
    p.add("--quiet", action="store_true", help="print only errors")
    return p


def frame_ms(text):
    """--frame-ms: what a GIF can store (1/100 s steps in 16 bits; browsers slow 0 to 100 ms)."""
    value = cli.positive_int(text)
    if not 10 <= value <= GIF_MAX_FRAME_MS:
        raise argparse.ArgumentTypeError(f"must be 10..{GIF_MAX_FRAME_MS} (a GIF frame's delay), "
                                         f"got {value}")
    return value


@cli.command_line
def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.points < 2:
        parser.fail("--points must be at least 2")
    device = cli.resolve_device(parser, args.device)
    if not os.path.isfile(args.checkpoint):
        hint = (" (train one first: python examples/mnist_dcgan.py)"
                if args.checkpoint == DEFAULT_CHECKPOINT else "")
        parser.fail(f"--checkpoint {args.checkpoint}: no such file{hint}")
    try:
        G, config, meta = generator_from_checkpoint(args.checkpoint, device)
    except (CheckpointError, ValueError, KeyError) as e:
        parser.fail(f"--checkpoint {args.checkpoint}: {e}")
    if meta.get("status", "ok") != "ok":
        parser.fail(f"--checkpoint {args.checkpoint}: marked {meta['status']!r} (saved when "
                    f"training failed); its weights are not usable")
    render = config.get("render", "gray")
    if render == "none":
        parser.fail(f"--checkpoint {args.checkpoint}: the {config.get('example')} generator does "
                    f"not make images")
    train = config["train"]
    out = args.out or os.path.dirname(os.path.abspath(args.checkpoint))
    problem = cli.check_output_folder(out)
    if problem:
        parser.fail(f"--out {out}: {problem}")
    image_shape = tuple(config["image_shape"]) if config.get("image_shape") else None
    pixels = math.prod(image_shape or (train["z_dim"],))
    cli.check_memory("--walks/--points/--steps/--scale", args.walks * args.points * args.steps * pixels
                     * (4 + 3 * args.scale ** 2), "the walk's frames (samples, then RGB pictures)")
    cli.check_memory("--export-samples", 2 * 4 * args.export_samples * pixels,
                     f"{args.export_samples:,} samples (made, then saved)")
    cli.lock_output_folder(parser, out)          # creates it; no other run may write there now
    say = (lambda m: None) if args.quiet else (lambda m: print(m, flush=True))
    say(f"minigan {EXAMPLE}: {config.get('example')} generator "
        f"({config['generator']['builder']}) at step {meta['step']}, device {device}")
    if {"epochs", "max_steps", "resume"} & args.given:
        say("note: --epochs, --max-steps and --resume do nothing here (no training)")
    generate = make_generate(G, device, batch=args.batch_size)
    noise = train.get("noise", "normal")
    written = save_latent_walk(generate, train["z_dim"], os.path.join(out, "latent_walk.gif"),
                               value_range=tuple(config.get("value_range", (-1.0, 1.0))),
                               render=render, image_shape=image_shape, noise=noise,
                               walks=args.walks, points=args.points, steps=args.steps,
                               seed=args.seed, scale=args.scale, frame_ms=args.frame_ms,
                               strip_path=os.path.join(out, "latent_walk.png"))
    if args.export_samples:
        gen = np.random.default_rng([args.seed, 5])
        n, zd = args.export_samples, train["z_dim"]
        z = gen.standard_normal((n, zd)) if noise == "normal" else gen.random((n, zd))
        samples = generate(z.astype(np.float32)).astype(np.float32)
        if image_shape:
            samples = samples.reshape((n,) + image_shape)
        path = os.path.join(out, "samples.npy")
        atomic_write(path, lambda f: np.save(f, samples))
        written.append(path)
    say("wrote: " + ", ".join(written))
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
