"""DCGAN on MNIST from scratch: the flagship's recipe (examples/mnist_dcgan.py) in one file — its
models written out layer by layer, batches of 32, Adam 2e-4 with betas (0.5, 0.999), BCE on logits
with the non-saturating G loss, samples from the average of G's weights (decay 0.999) with standing
BatchNorm statistics — and its two steps explicit (forward, loss, backward, zero_grad, step), equal
to minigan/gan/steps.py's. The flagship adds health checks, metrics, plots, Ctrl-C handling and
downloads the full MNIST; this file trains on what is already there (else the 5,000 offline digits).

    python examples/dcgan_from_scratch.py --max-steps 20 --out /tmp/s     # default: 25 epochs
    python examples/dcgan_from_scratch.py --resume --max-steps 40 --out /tmp/s
"""
import argparse
import os

import numpy as np

import minigan as mg
from minigan import nn, optim
from minigan.data import load_mnist, scale_to_tanh_range
from minigan.apps.cli import (ExampleParser, check_memory, check_output_folder, command_line,  # one-line
                              lock_output_folder, resolve_device)  # errors, exit 2; checks before training
from minigan.files import (atomic_write, flatten_optimizer_state, load_checkpoint, save_checkpoint,
                           subdict, unflatten_optimizer_state)
from minigan.gan.ema import GeneratorAverage            # θ_avg ← β·θ_avg + (1 − β)·θ, per G step
from minigan.gan.images import save_grid

Z = 100       # size of the noise vector z


def build_models():
    """G: z (N, 100) -> images (N, 1, 28, 28) in [-1, 1];  D: images -> one logit each."""
    G = nn.init.dcgan_init(nn.Sequential(                 # weights ~ N(0, 0.02²), as in the DCGAN paper
        nn.Linear(Z, 7 * 7 * 256, bias=False), nn.BatchNorm1d(7 * 7 * 256), nn.LeakyReLU(0.2), nn.Reshape(256, 7, 7),
        nn.ConvTranspose2d(256, 128, 5, padding=2, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),  # 128×7×7
        nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False),
        nn.BatchNorm2d(64), nn.LeakyReLU(0.2),                                       # 64×14×14
        nn.ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1, bias=False), nn.Tanh()))  # 1×28×28
    D = nn.init.dcgan_init(nn.Sequential(
        nn.Conv2d(1, 64, 5, stride=2, padding=2), nn.LeakyReLU(0.2), nn.Dropout(0.3),   # 64×14×14
        nn.Conv2d(64, 128, 5, stride=2, padding=2), nn.LeakyReLU(0.2), nn.Dropout(0.3),  # 128×7×7
        nn.Flatten(), nn.Linear(7 * 7 * 128, 1)))                                    # a logit
    return G, D


def discriminator_step(D, opt_d, bce, real, fake, ones, zeros):  # D(real) toward 1, D(fake) toward 0
    opt_d.zero_grad()
    loss_real = bce(D(real), ones)
    D.backward(bce.backward(), need_input_grad=False)    # dL/dθ_D; the data needs no gradient
    loss_fake = bce(D(fake), zeros)
    D.backward(bce.backward(), need_input_grad=False)    # fake is "detached": nothing flows to G
    opt_d.step()
    return loss_real + loss_fake


def generator_step(G, D, opt_g, bce, fake, ones):  # the non-saturating loss −log D(G(z)), through D
    opt_g.zero_grad()
    loss_g = bce(D(fake), ones)
    D.requires_grad_(False)                              # D frozen: its own gradients are unused
    d_fake = D.backward(bce.backward())                  # dL/dfake (N, 1, 28, 28), through D
    D.requires_grad_(True)
    G.backward(d_fake, need_input_grad=False)            # dL/dθ_G, through G's own caches
    opt_g.step()
    return loss_g


@command_line
def main(argv=None):
    p = ExampleParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many steps in all")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join("runs", "dcgan_from_scratch"))
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    p.add_argument("--export-samples", type=int, default=0, metavar="N", help="write N samples to OUT/samples.npy")
    args = p.parse_args(argv)
    if min(args.epochs, args.batch_size) < 1 or (args.max_steps or 1) < 1 or min(args.seed, args.export_samples) < 0:
        p.error("--epochs, --batch-size and --max-steps must be at least 1, --seed and --export-samples at least 0")
    device, problem = resolve_device(p, args.device), check_output_folder(args.out)  # as every example,
    if problem:                                              # before training: a real device, a usable --out
        p.fail(f"--out {args.out}: {problem}")
    lock_output_folder(p, args.out)                          # which this run owns until it ends
    images, B = load_mnist("train", download=False)[0], args.batch_size  # uint8 (N, 28, 28): offline digits
    if B > len(images):
        p.error(f"--batch-size {B} is larger than the {len(images)} training images")
    check_memory("--export-samples", args.export_samples * 28 * 28 * 4 * 2, "the samples")
    steps_per_epoch = len(images) // B
    total = min(args.epochs * steps_per_epoch, args.max_steps or np.inf)

    mg.seed(args.seed)                                       # weights, Dropout masks
    rng = np.random.default_rng(args.seed)                   # data order and noise z
    G, D = build_models()
    print(G.to(device), D.to(device), sep="\n")
    opt_g, opt_d = (optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)) for m in (G, D))
    average = GeneratorAverage(G, decay=0.999)               # the copy of G that samples
    bce = nn.BCEWithLogitsLoss()                             # mean of −[t·log σ(x) + (1−t)·log(1−σ(x))]
    ones, zeros = (mg.to_device(np.full((B, 1), t, np.float32), device) for t in (1, 0))   # targets

    path, step = os.path.join(args.out, "checkpoint.npz"), 0
    if args.resume:                                          # everything needed to go on exactly
        arrays, meta = load_checkpoint(path)
        try:
            G.load_state_dict(subdict(arrays, "G")), D.load_state_dict(subdict(arrays, "D"))
            average.model.load_state_dict(subdict(arrays, "A")), setattr(average, "updates", meta["avg"])
            opt_g.load_state_dict(unflatten_optimizer_state(arrays, meta["optG"], "optG"))
            opt_d.load_state_dict(unflatten_optimizer_state(arrays, meta["optD"], "optD"))
            rng.bit_generator.state, step = meta["rng"], meta["step"]
            mg.backend.set_rng_state(meta["mg_rng"])
        except (KeyError, ValueError, TypeError) as e:
            p.error(f"--resume: {path} is not a checkpoint of this script ({e})")
        print(f"resuming at step {step}")

    order = rng.permutation(len(images)) if step == 0 else arrays["order"]
    while step < total:
        pos = step % steps_per_epoch
        if pos == 0 and step > 0:
            order = rng.permutation(len(images))             # a new epoch, a new data order
        real = mg.to_device(scale_to_tanh_range(images[order[pos * B:(pos + 1) * B], None]), device)
        z = mg.to_device(rng.standard_normal((B, Z), dtype=np.float32), device)
        fake = G(z)                                          # G forward, once per step
        loss_d = discriminator_step(D, opt_d, bce, real, fake, ones, zeros)
        loss_g = generator_step(G, D, opt_g, bce, fake, ones)
        average.update(G)
        step += 1
        if step % 50 == 0 or step == total:
            print(f"step {step}/{total}  loss_D {loss_d:.4f}  loss_G {loss_g:.4f}")

    os.makedirs(args.out, exist_ok=True)                     # the checkpoint, atomically
    arrays = {f"{n}/{k}": v for n, m in (("G", G), ("D", D), ("A", average.model)) for k, v in m.state_dict().items()}
    arrays["order"] = order
    meta = {"step": step, "rng": rng.bit_generator.state, "mg_rng": mg.backend.rng_state(), "avg": average.updates}
    for prefix, opt in (("optG", opt_g), ("optD", opt_d)):
        flat, meta[prefix] = flatten_optimizer_state(opt.state_dict(), prefix)
        arrays.update(flat)
    save_checkpoint(path, arrays, meta)
    noise = np.random.default_rng([args.seed, 98]).standard_normal((2000, Z), dtype=np.float32)
    average.recompute_statistics(mg.to_device(noise[i:i + 100], device) for i in range(0, 2000, 100))
    G = average.model.eval()                                 # samples: the average, its statistics
    z = np.random.default_rng([args.seed, 1]).standard_normal((64, Z), dtype=np.float32)
    save_grid(mg.asnumpy(G(mg.to_device(z, device))), os.path.join(args.out, "grid.png"), nrow=8, scale=2)
    if args.export_samples:
        z = rng.standard_normal((args.export_samples, Z), dtype=np.float32)
        samples = mg.asnumpy(G(mg.to_device(z, device)))
        atomic_write(os.path.join(args.out, "samples.npy"), lambda f: np.save(f, samples))
    print(f"wrote {os.path.join(args.out, 'grid.png')} and {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
