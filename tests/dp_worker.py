"""One training run of the flagship models for tests/test_distributed.py: one process, or under
``mpirun -n K`` with ``--parallel`` (then each process takes B/K of every batch).

    python tests/dp_worker.py OUT [--parallel] [--steps N] [--resume] [--double]
"""
import argparse
import os
import sys
import warnings

import numpy as np

from minigan import gan
from minigan.data import load_mnist, scale_to_tanh_range
from minigan.distributed import DataParallel
from minigan.gan.models import dcgan28_discriminator, dcgan28_generator
import minigan as mg


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--parallel", action="store_true")
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--double", action="store_true", help="float64 models (rounding 10⁻¹⁶, not 10⁻⁷)")
    args = p.parse_args()
    warnings.simplefilter("ignore")                  # the offline-digits notice
    images, _ = load_mnist("train", download=False)
    mg.seed(5)
    G, D = dcgan28_generator(), dcgan28_discriminator()
    if args.double:
        G, D = G.double(), D.double()
    cfg = gan.TrainConfig(batch_size=16, epochs=1, max_steps=args.steps, seed=3, z_dim=100,
                          real_label=(0.9, 1.1), fake_label=(0.0, 0.2), flip_prob=0.1,
                          checkpoint_every=2)
    trainer = gan.GANTrainer(G, D, cfg, data=images[:160, None], transform=scale_to_tanh_range,
                             out_dir=args.out, quiet=True, progress=False,
                             parallel=DataParallel() if args.parallel else None)
    if args.resume:
        trainer.load_checkpoint(os.path.join(args.out, "checkpoint.npz"))
    trainer.fit()
    if trainer.parallel.is_main:                 # every process ends with the same weights
        np.savez(os.path.join(args.out, f"weights_rank{trainer.parallel.rank}.npz"),
                 **{f"G/{k}": v for k, v in trainer.G.state_dict().items()})
    elif args.parallel:
        np.savez(os.path.join(args.out + f"_rank{trainer.parallel.rank}.npz"),
                 **{f"G/{k}": v for k, v in trainer.G.state_dict().items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
