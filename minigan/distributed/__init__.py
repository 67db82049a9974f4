"""Data-parallel training over MPI: K processes, one model copy each, one global batch.

Each step every process takes its B/K rows of the global batch of B samples, runs forward and
backward on them, and then the processes sum their gradients with MPI's Allreduce and divide by
K — so every copy takes the same optimizer step that one process with the whole batch would
take. Written out by hand here, as the rest of minigan:

    communicator.py     the transport: mpi4py's COMM_WORLD (imported only when used)
    gradient_buckets.py gradients flattened into a few contiguous buckets, one Allreduce each
    sync_batchnorm.py   BatchNorm whose statistics (and their gradients) cover the global batch
    data_parallel.py    what GANTrainer asks of a run: which rows are this process's, the
                        averaged losses, agreeing on Ctrl-C, rank 0 writing the files
    together.py         one configuration for all processes, checked at start; one failing
                        process ends them all

    mpirun -n 2 python examples/mnist_dcgan.py --data-parallel --batch-size 64

Randomness does not depend on K: every process draws the global batch's data order, noise and
labels from the shared seed and keeps its rows, and Dropout's mask of a sample is a function of
the sample's index in the global batch (nn/dropout.py, ``first_sample``). The processes end
bit-identical to each other; against one process the sums over the batch are split into
per-process partial sums added in another order: 1e-13 apart in float64, and in float32 that
rounding amplified by Adam (weights up to 0.3·lr apart after 6 steps, BatchNorm biases up to
0.7%: docs/data-parallel.md). Every process must be given the same settings, and one failing
ends them all (together.py).
"""
from .communicator import MPIComm, mpi_available
from .data_parallel import DataParallel, SingleProcess
from .gradient_buckets import GradientAveraging, average_gradients
from .sync_batchnorm import SyncBatchNorm, convert_sync_batchnorm

__all__ = ["MPIComm", "mpi_available", "DataParallel", "SingleProcess", "GradientAveraging",
           "average_gradients", "SyncBatchNorm", "convert_sync_batchnorm"]
