"""What a data-parallel GANTrainer asks of its processes (and the one-process stand-in).

    shard(a)            this process's rows of a global batch: rows rank·b .. rank·b + b − 1,
                        b = B/K (data, noise z, D's targets — all drawn whole on every process
                        from the shared seed, so they do not depend on K)
    sharding(B, G, D)   the block in which the Dropout layers of G and D make the masks of their
                        rows of the global batch (their ``first_sample`` = rank·b)
    prepare(model)      BatchNorm → SyncBatchNorm
    wrap_optimizer(o)   gradients averaged over the processes before each step
    wrap_loss(fn)       the loss value averaged over the processes (every process then sees the
                        same number, so a NaN stops all of them at the same step)
    agree(stats, stop)  D(x) and D(G(z)) averaged; stop if any process got Ctrl-C/SIGTERM
    broadcast(modules)  rank 0's parameters and buffers to all (start from the same weights)
    check_same(s, what) refuse, on every process, settings that differ between processes
    is_main             rank 0: the process that writes files and prints
"""
import contextlib

import numpy as np

from .communicator import MPIComm
from .gradient_buckets import GradientAveraging
from .sync_batchnorm import convert_sync_batchnorm
from .together import activate, check_same


class SingleProcess:
    """One process: every hook does nothing."""
    rank, size, is_main = 0, 1, True

    def shard(self, batch):
        return batch

    def sharding(self, global_size, *modules):
        return contextlib.nullcontext()

    def prepare(self, model):
        return model

    def wrap_optimizer(self, optimizer):
        return optimizer

    def wrap_loss(self, loss):
        return loss

    def agree(self, stats, stop):
        return stats, stop

    def broadcast(self, *modules):
        pass

    def check_same(self, settings, what="setting"):
        pass

    def __repr__(self):
        return "SingleProcess()"


class _GlobalMeanLoss:
    """A loss whose value is the mean over processes of the local mean (its gradient stays the
    local one: the optimizer averages gradients)."""

    def __init__(self, loss, comm):
        self.loss, self.comm = loss, comm

    def __call__(self, output, target):
        value = np.array([self.loss(output, target)], dtype=np.float64)
        return float(self.comm.allreduce_sum(value)[0] / self.comm.size)

    def backward(self):
        return self.loss.backward()

    def __getattr__(self, name):
        return getattr(self.loss, name)


class DataParallel(SingleProcess):
    """K processes of ``comm`` (default: MPI's COMM_WORLD) training one model on one global
    batch. Every process must make the same calls in the same order (collective operations)."""

    def __init__(self, comm=None):
        self.comm = comm if comm is not None else MPIComm()
        self.rank, self.size = self.comm.rank, self.comm.size
        self.is_main = self.rank == 0
        activate(self.comm)                       # one process failing ends them all

    def _rows(self, global_size):
        if global_size % self.size:
            raise ValueError(f"DataParallel: a global batch of {global_size} cannot be split evenly "
                             f"over {self.size} processes (use a multiple of {self.size})")
        b = global_size // self.size
        return self.rank * b, b

    def shard(self, batch):
        start, b = self._rows(len(batch))
        return batch[start:start + b]

    @contextlib.contextmanager
    def sharding(self, global_size, *modules):
        start, _ = self._rows(global_size)
        layers = [m for module in modules for m in module.modules() if hasattr(m, "first_sample")]
        for layer in layers:
            layer.first_sample = start
        try:
            yield
        finally:
            for layer in layers:
                layer.first_sample = 0

    def prepare(self, model):
        return convert_sync_batchnorm(model, self.comm)

    def wrap_optimizer(self, optimizer):
        return GradientAveraging(optimizer, self.comm)

    def wrap_loss(self, loss):
        return _GlobalMeanLoss(loss, self.comm)

    def agree(self, stats, stop):
        values = np.array([stats["D_x"], stats["D_G_z"]], dtype=np.float64)
        self.comm.allreduce_sum(values)
        signal = self.comm.allreduce_max(np.array([int(stop or 0)], dtype=np.int64))
        return (dict(stats, D_x=float(values[0] / self.size), D_G_z=float(values[1] / self.size)),
                int(signal[0]))

    def broadcast(self, *modules):
        for module in modules:
            for name, array in module.state_dict().items():
                if array.ndim == 0:                       # a 0-d buffer: broadcast a 1-element view
                    array = array.reshape(1)
                self.comm.broadcast(array)

    def check_same(self, settings, what="setting"):
        check_same(self.comm, settings, what)

    def __repr__(self):
        return f"DataParallel(rank {self.rank} of {self.size})"
