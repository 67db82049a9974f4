"""K "processes" as threads of one process, for tests and docs/backprop.md: the same three
collective operations as communicator.MPIComm, between threads that meet at a barrier.

Only for NumPy code without numba's parallel kernels (numba's workqueue pool takes one caller
at a time): SyncBatchNorm and the gradient buckets qualify. The sums are taken in rank order,
so every thread gets the same, deterministic result.

    results = run_ranks(2, lambda comm: ...)     # fn(comm) on 2 threads; returns [fn's results]
"""
import threading

import numpy as np


class _Group:
    def __init__(self, size):
        self.size, self.barrier, self.slots = size, threading.Barrier(size), [None] * size


class ThreadComm:
    """Rank ``rank`` of a group of threads; see :func:`run_ranks`."""

    def __init__(self, group, rank):
        self._group, self.rank, self.size = group, rank, group.size

    def _exchange(self, array, combine):
        g = self._group
        g.slots[self.rank] = np.array(array, copy=True)
        g.barrier.wait()                        # everyone has posted
        result = combine(g.slots)
        g.barrier.wait()                        # everyone has read
        array[...] = result
        return array

    def allreduce_sum(self, array):
        return self._exchange(array, lambda slots: sum(slots[1:], slots[0].copy()))

    def allreduce_max(self, array):
        return self._exchange(array, lambda slots: np.maximum.reduce(slots))

    def broadcast(self, array, root=0):
        return self._exchange(array, lambda slots: slots[root])

    def __repr__(self):
        return f"ThreadComm(rank={self.rank}, size={self.size})"


def run_ranks(size, fn):
    """Run ``fn(comm)`` on ``size`` threads, each with its ThreadComm; returns their results in
    rank order (an exception in any thread is raised here)."""
    group = _Group(size)
    results, errors = [None] * size, []

    def target(rank):
        try:
            results[rank] = fn(ThreadComm(group, rank))
        except BaseException as e:              # noqa: BLE001 — re-raised below
            errors.append(e)
            group.barrier.abort()               # release the others

    threads = [threading.Thread(target=target, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
