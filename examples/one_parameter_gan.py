"""The smallest GAN there is — "Make Your Own GAN", part I.

Real data are numbers near 1: x ~ U(0.9, 1.1).
    D(x) = p_D · x      one parameter, starts at 0.1 (a Linear(1, 1) without bias)
    G()  = p_G          one parameter, starts at 0.1 (a Linear(1, 1) without bias on input 1)
Squared error, plain SGD. With learning rate 0.025 the gradient step of (t − o)² is exactly the
article's update rule p ← p + 0.05·(t − o)·x.

D is trained to say 1 for real numbers and 0 for G's number. The article trains G directly
towards the target 1 with its own error (t − p_G), which makes G independent of D (the
article's closing algebra explains why): that is ``--generator direct``, the default.
``--generator through-d`` trains G the GAN way instead, with the gradient of (1 − D(G))²
through D. Try it: with a D this simple there is no balance point — G pushes p_G past 1 to make
p_D·p_G reach 1, D answers by shrinking p_D, and both drift (p_G ≈ 4.5, p_D ≈ 0.05 after 1,000
steps): a one-line picture of why GAN training needs a discriminator with enough capacity.

What to look for (parameters.png): p_G climbs towards 1 while D's parameter stops rising
towards 1 and its error stops falling to 0 — it can no longer tell G's numbers from real ones.

    python examples/one_parameter_gan.py
    python examples/one_parameter_gan.py --generator through-d --epochs 10
"""
if __name__ == "__main__":         # Ctrl-C while the libraries load: stop quietly (main() then
    import signal                  # reports a Ctrl-C in one line; training saves a checkpoint)
    signal.signal(signal.SIGINT, signal.SIG_DFL)

import os
import sys

import numpy as np

import minigan as mg
from minigan import gan, nn
from minigan.apps import cli
from minigan.files.figures import new_figure, save_figure
from minigan.gan.steps import finite

EXAMPLE = "one_parameter_gan"


class OneParameterTrainer(gan.GANTrainer):
    """GANTrainer whose generator step can follow the article's direct update."""

    direct = True

    def generator_step(self, fake):
        if not self.direct:
            return super().generator_step(fake)
        self.opt_g.zero_grad()
        loss = nn.MSELoss()
        xp = mg.get_array_module(fake)
        loss_G = finite("loss_G", loss(fake, xp.ones_like(fake)))   # (1 − p_G)²
        self.G.backward(loss.backward())
        self.opt_g.step()
        return {"loss_G": loss_G}


def real_numbers(rng, n):
    return rng.uniform(0.9, 1.1, (n, 1)).astype(np.float32)


def parameters(trainer, row):
    """p_D, p_G and the two errors of the article's plots, for each logged step."""
    p_d = float(mg.asnumpy(trainer.D[0].weight.data).ravel()[0])
    p_g = float(mg.asnumpy(trainer.G[0].weight.data).ravel()[0])
    x = float(mg.asnumpy(trainer.last["real"]).ravel()[0])
    return {"p_D": p_d, "p_G": p_g, "error_D": 1.0 - p_d * x, "error_G": 1.0 - p_g}


def plot_parameters(trainer):
    steps = [r for r in trainer.history if r["kind"] == "step" and "p_D" in r]
    if not steps:
        return []
    fig = new_figure(10, 7)
    x = [r["step"] for r in steps]
    for i, (who, title) in enumerate((("D", "discriminator D(x) = p_D·x"),
                                      ("G", "generator G() = p_G"))):
        ax = fig.add_subplot(2, 1, i + 1)
        ax.plot(x, [r[f"p_{who}"] for r in steps], label=f"parameter p_{who}")
        ax.plot(x, [r[f"error_{who}"] for r in steps], label="error (target 1 − output)",
                alpha=0.8)
        ax.axhline(1.0, color="gray", linestyle=":", linewidth=0.8)
        ax.set_title(title)
        ax.set_ylabel("value")
        ax.grid(alpha=0.3)
        ax.legend()
    ax.set_xlabel("step")
    return [save_figure(fig, trainer.path("parameters.png"))]


def build_parser():
    p = cli.common_parser("The one-parameter GAN ('Make Your Own GAN' part I).", epochs=3,
                          batch_size=1, out=os.path.join("runs", EXAMPLE))
    p.add("--generator", choices=["direct", "through-d"], default="direct",
          help="G's update: the article's direct rule, or the GAN gradient through D")
    p.add("--lr", type=cli.positive_float, default=0.025,
          help="SGD learning rate (0.025 = the article's 0.05·error rule)")
    p.add("--steps-per-epoch", type=cli.positive_int, default=100, help="steps per epoch")
    return p


@cli.command_line
def main(argv=None):
    parser = build_parser()
    args, ctx = cli.begin(parser, argv, EXAMPLE)
    run_config = ctx.saved_config or {
        "example": EXAMPLE, "title": "one-parameter GAN", "generator_update": args.generator,
        "generator": {"builder": "one_parameter_generator", "kwargs": {"init": 0.1}},
        "discriminator": {"builder": "one_parameter_discriminator", "kwargs": {"init": 0.1}},
    }
    cfg = cli.train_config(
        ctx, z_dim=1, noise="ones", steps_per_epoch=args.steps_per_epoch, loss="mse",
        optimizer="sgd", lr_g=args.lr, lr_d=args.lr, n_fixed=2, health_patience=10 ** 9)
    G, D = cli.build_models(run_config, cfg.seed)
    trainer = OneParameterTrainer(G, D, cfg, real_sampler=real_numbers, out_dir=ctx.out,
                                  device=ctx.device, image_shape=(1, 1, 1), value_range=(0.0, 1.1),
                                  render="none", run_config=run_config, quiet=args.quiet,
                                  step_callbacks=[parameters])
    trainer.direct = run_config["generator_update"] == "direct"
    ctx.say(f"real data x ~ U(0.9, 1.1); D(x) = p_D·x, G() = p_G, both starting at 0.1; "
            f"generator update: {run_config['generator_update']}; SGD lr {cfg.lr_g:g}")
    code = cli.run_training(ctx, trainer, after=plot_parameters)
    if code == 0:
        last = f" (loss_D {trainer.history[-1]['loss_D']:.3f})" if trainer.history else ""
        ctx.say(f"p_D = {float(mg.asnumpy(D[0].weight.data).ravel()[0]):.3f}, "
                f"p_G = {float(mg.asnumpy(G[0].weight.data).ravel()[0]):.3f}{last}")
    return code


if __name__ == "__main__":
    sys.exit(main())
