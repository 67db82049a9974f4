"""Averaging gradients over processes: few big Allreduce calls instead of one per tensor.

Each Allreduce costs a fixed latency plus time per byte, so the parameters' gradients are
packed, in order, into contiguous float buckets of at most ``bucket_bytes`` (PyTorch DDP's
default is 25 MiB; the flagship's 2.3 million gradients fit in one), summed in place, divided
by the number of processes K and unpacked:

    bucket = [g_1.ravel(), g_2.ravel(), ...]      (copy in)
    bucket ← Σ_processes bucket                   (one MPI_Allreduce per bucket)
    g_i ← bucket[slice_i] / K                     (copy out)

Each process's gradient is that of the mean loss over its B/K samples, so the average over the
processes is the gradient of the mean loss over all B samples.
"""
import numpy as np

BUCKET_BYTES = 25 * 2 ** 20


def _buckets(params, bucket_bytes):
    """Consecutive groups of parameters whose gradients together hold at most bucket_bytes
    (a single bigger gradient gets a bucket of its own)."""
    groups, current, size = [], [], 0
    for p in params:
        nbytes = p.grad.size * p.grad.dtype.itemsize
        if current and size + nbytes > bucket_bytes:
            groups.append(current)
            current, size = [], 0
        current.append(p)
        size += nbytes
    return groups + ([current] if current else [])


def average_gradients(params, comm, bucket_bytes=BUCKET_BYTES, buffers=None):
    """p.grad ← mean over processes of p.grad, for every Parameter in ``params``, with one
    ``comm.allreduce_sum`` per bucket. ``buffers``: a dict reused between calls (the buckets)."""
    if comm.size == 1:
        return
    buffers = {} if buffers is None else buffers
    for i, group in enumerate(_buckets(params, bucket_bytes)):
        n = sum(p.grad.size for p in group)
        bucket = buffers.get(i)
        if bucket is None or bucket.size != n or bucket.dtype != group[0].grad.dtype:
            bucket = buffers[i] = np.empty(n, dtype=group[0].grad.dtype)
        start = 0
        for p in group:                                   # copy in
            bucket[start:start + p.grad.size] = p.grad.ravel()
            start += p.grad.size
        comm.allreduce_sum(bucket)
        bucket *= bucket.dtype.type(1.0 / comm.size)      # K = 2, 4, ...: exact in binary
        start = 0
        for p in group:                                   # copy out
            p.grad[...] = bucket[start:start + p.grad.size].reshape(p.grad.shape)
            start += p.grad.size


class GradientAveraging:
    """An optimizer whose ``step()`` first averages the gradients over the processes (Horovod's
    DistributedOptimizer); everything else (zero_grad, state_dict, lr, ...) is the optimizer's."""

    def __init__(self, optimizer, comm, bucket_bytes=BUCKET_BYTES):
        self.optimizer, self.comm, self.bucket_bytes = optimizer, comm, bucket_bytes
        self._buffers = {}

    def step(self):
        average_gradients(self.optimizer.params, self.comm, self.bucket_bytes, self._buffers)
        self.optimizer.step()

    def __getattr__(self, name):
        return getattr(self.optimizer, name)
