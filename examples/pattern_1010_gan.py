"""A GAN that learns a fuzzy 1010 pattern — "Make Your Own GAN", part II.

Real data: four numbers, high-low-high-low: [U(0.8, 1), U(0, 0.2), U(0.8, 1), U(0, 0.2)].
The generator never sees them; it only learns from the discriminator's verdicts.
    D: 4 → 3 → 1, sigmoid after each layer, no biases
    G: 4 uniform random inputs → 4 → 4, sigmoid after each layer, no biases
Mean squared error (``--loss bce`` for binary cross-entropy), plain SGD with lr 0.01, one
sample per step, 10,000 steps (10 "epochs" of 1,000 steps).

Writes losses.png and metrics.csv like every example, and pattern.png: D's loss, the
generator's distance from the ideal [0.9, 0, 0.9, 0] (the article's measure of progress, never
used for training), and what the generator outputs after each epoch (one row per epoch; the
1010 stripes emerge).

    python examples/pattern_1010_gan.py
"""
if __name__ == "__main__":         # Ctrl-C while the libraries load: stop quietly (main() then
    import signal                  # reports a Ctrl-C in one line; training saves a checkpoint)
    signal.signal(signal.SIGINT, signal.SIG_DFL)

import os
import sys

import numpy as np

import minigan as mg
from minigan import gan
from minigan.apps import cli
from minigan.files.figures import new_figure, save_figure
from minigan.gan.plots import moving_average

EXAMPLE = "pattern_1010_gan"
IDEAL = np.array([0.9, 0.0, 0.9, 0.0], dtype=np.float32)


def real_1010(rng, n):
    """n fuzzy 1010 patterns (n, 4)."""
    x = rng.uniform(0.0, 0.2, (n, 4)).astype(np.float32)
    x[:, 0::2] += np.float32(0.8)
    return x


def build_parser():
    p = cli.common_parser("GAN that learns the fuzzy 1010 pattern ('Make Your Own GAN' part II).",
                          epochs=10, batch_size=1, out=os.path.join("runs", EXAMPLE), log_every=10)
    p.add("--loss", choices=["mse", "bce"], default="mse", help="D's (and G's) loss")
    p.add("--lr", type=cli.positive_float, default=0.01, help="SGD learning rate for G and D")
    p.add("--steps-per-epoch", type=cli.positive_int, default=1000,
          help="steps between epoch reports and snapshots of G's output")
    return p


def g_error(trainer, row):
    """The article's progress measure: MSE between G's last output and [0.9, 0, 0.9, 0]."""
    fake = mg.asnumpy(trainer.last["fake"]).reshape(-1, 4)
    return {"g_error": float(((fake - IDEAL) ** 2).mean())}


def g_outputs(trainer):
    """Mean generated value at each of the 4 positions (fixed noise), for the epoch row."""
    out = trainer.generate(trainer.fixed_noise).reshape(-1, 4).mean(axis=0)
    return {f"out_{i + 1}": float(v) for i, v in enumerate(out)}


def plot_pattern(trainer):
    steps = [r for r in trainer.history if r["kind"] == "step"]
    epochs = [r for r in trainer.history if r["kind"] == "epoch" and "out_1" in r]
    if not steps:
        return []
    fig = new_figure(10, 9)
    x = [r["step"] for r in steps]
    ax = fig.add_subplot(3, 1, 1)
    y = [r["loss_D"] for r in steps]
    ax.plot(x, y, ".", alpha=0.15, markersize=2)
    ax.plot(x, moving_average(y, 50), color="tab:blue", label="D loss (real + fake)")
    ax.set_ylabel("D loss")
    ax.legend()
    ax.grid(alpha=0.3)
    ax = fig.add_subplot(3, 1, 2)
    y = [r.get("g_error", np.nan) for r in steps]
    ax.plot(x, y, ".", alpha=0.15, markersize=2, color="tab:orange")
    ax.plot(x, moving_average(y, 50), color="tab:orange", label="G output vs [0.9, 0, 0.9, 0] (MSE)")
    ax.set_xlabel("step")
    ax.set_ylabel("G error")
    ax.legend()
    ax.grid(alpha=0.3)
    ax = fig.add_subplot(3, 1, 3)
    if epochs:
        values = np.array([[r[f"out_{i}"] for i in range(1, 5)] for r in epochs])
        im = ax.imshow(values.T, cmap="Blues", vmin=0, vmax=1, aspect="auto", interpolation="none")
        ax.set_xticks(range(len(epochs)))
        ax.set_xticklabels([str(r["epoch"]) for r in epochs])
        fig.colorbar(im, ax=ax)
    ax.set_yticks(range(4))
    ax.set_yticklabels(["1", "2", "3", "4"])
    ax.set_xlabel("epoch")
    ax.set_ylabel("G output position")
    ax.set_title("generated values after each epoch (mean over the fixed noise)")
    return [save_figure(fig, trainer.path("pattern.png"))]


@cli.command_line
def main(argv=None):
    parser = build_parser()
    args, ctx = cli.begin(parser, argv, EXAMPLE)
    run_config = ctx.saved_config or {
        "example": EXAMPLE, "title": "GAN on the 1010 pattern",
        "generator": {"builder": "pattern_generator", "kwargs": {}},
        "discriminator": {"builder": "pattern_discriminator", "kwargs": {}},
    }
    cfg = cli.train_config(
        ctx, z_dim=4, noise="uniform", steps_per_epoch=args.steps_per_epoch, loss=args.loss,
        optimizer="sgd", lr_g=args.lr, lr_d=args.lr, n_fixed=64, health_patience=1000)
    G, D = cli.build_models(run_config, cfg.seed)
    ctx.say(f"data: fuzzy 1010 patterns drawn fresh each step; {cfg.loss} loss, SGD lr "
            f"{cfg.lr_g:g}, batch {cfg.batch_size}")
    trainer = gan.GANTrainer(G, D, cfg, real_sampler=real_1010, out_dir=ctx.out,
                             device=ctx.device, image_shape=(1, 1, 4), value_range=(0.0, 1.0),
                             render="none", run_config=run_config, quiet=args.quiet,
                             epoch_metrics=[g_outputs], step_callbacks=[g_error])
    code = cli.run_training(ctx, trainer, after=plot_pattern)
    if code == 0:
        out = trainer.generate(trainer.fixed_noise[:4]).reshape(-1, 4)
        ctx.say("G's output for 4 noise vectors:\n" + "\n".join(
            "  [" + ", ".join(f"{v:.2f}" for v in row) + "]" for row in out))
    return code


if __name__ == "__main__":
    sys.exit(main())
