"""The reward at the end of the track: the flagship DCGAN trained on the layers you wrote.

The flagship's recipe (examples/mnist_dcgan.py): its G and D (minigan.gan's dcgan28 builders),
batches of 32, Adam 2e-4 with betas (0.5, 0.999), BCE on logits, the non-saturating G loss, and
samples from the average of G's weights (decay 0.999) with standing BatchNorm statistics. Every
exercise you passed replaces minigan's piece; the rest stays minigan's, and the run says which
is whose. Each edited exercise is checked again first, so only passing code trains.
"""
import os
import time
import warnings

import numpy as np

import minigan as mg
from minigan import gan, nn, optim
from minigan.data import load_mnist, scale_to_tanh_range
from minigan.gan import steps
from minigan.gan.ema import GeneratorAverage

from . import track
from .checks import run_check
from .grading import Learner, LearnerError
from .layers import YourAdam, YourBCEWithLogitsLoss, swap_in, your_classes

Z = 100


def passed_exercises(folder):
    """{name: the learner's module} for every exercise in ``folder`` that passes its check now."""
    learner, passed = Learner(folder), {}
    for ex in track.TRACK:
        if track.status(ex, folder) in ("not started", "to do"):
            continue
        report, _ = run_check(learner, ex.name)
        track.record(folder, ex, report.ok)
        if report.ok:
            passed[ex.name] = learner.load(ex.name)
    return passed


def minigan_steps():
    def discriminator_step(D, opt_d, bce, real, fake):
        ones = np.ones((len(real), 1), real.dtype)
        return steps.discriminator_step(D, opt_d, bce, "bce_logits", real, fake, ones, 0 * ones)["loss_D"]

    def generator_step(G, D, opt_g, bce, fake):
        return steps.generator_step(G, D, opt_g, bce, fake)["loss_G"]
    return discriminator_step, generator_step


def train(folder, max_steps=500, batch_size=32, seed=0, out=None, data_dir=None, log_every=10,
          statistics=2000):
    """Train; returns 0 (a grid written), 1 (a learner's function raised or a loss diverged)."""
    if not os.path.isdir(folder):
        print(f"no folder {folder}: run `python -m minigan.learn start {folder}` first")
        return 1
    out = out or os.path.join(folder, "train")
    passed = passed_exercises(folder)
    used = [ex for ex in track.TRACK if ex.replaces]
    print("yours:    " + (", ".join(f"{ex.name} → {ex.replaces}" for ex in used if ex.name in passed)
                          or "nothing yet (pass a check first)"))
    print("minigan's: " + (", ".join(ex.replaces for ex in used if ex.name not in passed) or "nothing"))

    mg.seed(seed)                                            # the flagship's initial weights
    G, D = gan.dcgan28_generator(z_dim=Z), gan.dcgan28_discriminator()
    classes = your_classes(passed, seed)
    for label, model in (("G", G), ("D", D)):
        swapped = swap_in(model, classes)
        if swapped:
            print(f"{label}: your layers at " + ", ".join(swapped))
    if "adam" in passed:
        opt_g = YourAdam(passed["adam"], G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_d = YourAdam(passed["adam"], D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    else:
        opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    if "bce_logits" in passed:
        bce = type("YourBCEWithLogitsLoss", (YourBCEWithLogitsLoss,), {"fns": passed["bce_logits"]})()
    if "gan_step" in passed:
        d_step, g_step = passed["gan_step"].discriminator_step, passed["gan_step"].generator_step
    else:
        d_step, g_step = minigan_steps()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                      # the offline-digits note: said below
        images, _, source = load_mnist("train", root=data_dir, download=False, return_source=True)
    print(f"data: {source}")
    rng = np.random.default_rng([seed, 1])                   # data order and noise
    average = GeneratorAverage(G, decay=0.999)
    B, per_epoch = batch_size, len(images) // batch_size
    order, start, learner = rng.permutation(len(images)), time.perf_counter(), Learner(folder)
    for step in range(max_steps):
        if step and step % per_epoch == 0:
            order = rng.permutation(len(images))
        pick = order[(step % per_epoch) * B:(step % per_epoch + 1) * B]
        real = scale_to_tanh_range(images[pick][:, None])
        z = rng.standard_normal((B, Z), dtype=np.float32)
        try:
            G.train(), D.train()
            fake = G(z)
            loss_d = learner.call(d_step, D, opt_d, bce, real, fake)
            loss_g = learner.call(g_step, G, D, opt_g, bce, fake)
        except LearnerError as exc:
            print(f"step {step + 1}: your code raised:\n{exc.text}")
            return 1
        if not (np.isfinite(loss_d) and np.isfinite(loss_g)):
            print(f"step {step + 1}: the losses are not finite (loss_D {loss_d}, loss_G {loss_g}); "
                  f"stopped")
            return 1
        average.update(G)
        if (step + 1) % log_every == 0 or step + 1 == max_steps:
            print(f"step {step + 1}/{max_steps}  loss_D {loss_d:.4f}  loss_G {loss_g:.4f}  "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)

    if statistics:                                           # standing statistics, as the flagship
        noise = np.random.default_rng([seed, 98]).standard_normal((statistics, Z), dtype=np.float32)
        average.recompute_statistics(noise[i:i + 100] for i in range(0, len(noise), 100))
    sampler = average.model
    sampler.eval()
    z = np.random.default_rng([seed, 2]).standard_normal((64, Z), dtype=np.float32)
    os.makedirs(out, exist_ok=True)
    path = gan.save_grid(mg.asnumpy(sampler(z)), os.path.join(out, "grid.png"), nrow=8, scale=2)
    print(f"wrote {path}: 64 samples of the average of G's weights after {max_steps} steps"
          + (" (a few hundred steps show strokes; the flagship trains 25 epochs)" if max_steps < 1000 else ""))
    return 0
