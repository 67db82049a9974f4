"""An example under ``mpirun`` with one process failing at step 2, for
tests/test_distributed_failures.py:

    python tests/dp_fail_worker.py RANK disk-full|bug EXAMPLE.py [ARGS...]

disk-full: that process's checkpoint writes fail with ENOSPC (as rank 0's would on a full disk);
bug: its training step raises a RuntimeError (an unexpected exception, with its traceback).
"""
import errno
import os
import runpy
import sys

from mpi4py import MPI

from minigan.gan.trainer import GANTrainer


def main():
    rank, how, example = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    if MPI.COMM_WORLD.Get_rank() == rank:
        name = "save_checkpoint" if how == "disk-full" else "train_step"
        original = getattr(GANTrainer, name)

        def failing(self, *a, **kw):
            if self.step >= 2 and how == "disk-full":
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "OUT/checkpoint.npz")
            if self.step >= 2:
                raise RuntimeError("a bug on one process")
            return original(self, *a, **kw)
        setattr(GANTrainer, name, failing)
    sys.argv = [example] + sys.argv[4:]
    runpy.run_path(example, run_name="__main__")


if __name__ == "__main__":
    main()
