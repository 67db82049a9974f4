"""minigan.distributed's parts, with threads standing in for MPI processes (thread_comm.py):
gradient buckets, SyncBatchNorm against one BatchNorm over the whole batch, sharding. These run
everywhere; tests/test_distributed.py runs the whole trainer under mpirun."""
import numpy as np
import pytest

from minigan import nn
from minigan.distributed import DataParallel, SingleProcess, SyncBatchNorm, average_gradients
from minigan.distributed.thread_comm import run_ranks


class Counting:
    """A communicator that counts its allreduce calls."""

    def __init__(self, comm):
        self.comm, self.rank, self.size, self.calls = comm, comm.rank, comm.size, 0

    def allreduce_sum(self, a):
        self.calls += 1
        return self.comm.allreduce_sum(a)


def test_gradients_are_averaged_with_one_allreduce_per_bucket():
    shapes = [(300,), (20, 10), (5,), (1000,), (7, 7)]        # 4·(300 + 200 + 5 + 1000 + 49) bytes

    def rank(comm):
        counting = Counting(comm)
        params = [nn.Parameter(np.zeros(s, np.float32)) for s in shapes]
        for i, p in enumerate(params):
            p.grad[...] = np.arange(p.grad.size).reshape(p.grad.shape) * (comm.rank + 1) + i
        average_gradients(params, counting, bucket_bytes=2048)
        return [p.grad.copy() for p in params], counting.calls

    (grads, calls), (grads1, _) = run_ranks(2, rank)
    assert calls == 3                      # [300, 200, 5] = 2020 B, [1000] alone, [49]
    for i, (g, g1, s) in enumerate(zip(grads, grads1, shapes)):
        expected = np.arange(np.prod(s)).reshape(s) * 1.5 + i   # mean of ×1 and ×2
        np.testing.assert_array_equal(g, expected)
        np.testing.assert_array_equal(g1, expected)


@pytest.mark.parametrize("make,shape", [(nn.BatchNorm1d, (12, 4)), (nn.BatchNorm2d, (6, 3, 3, 2))])
def test_sync_batchnorm_over_three_processes_is_one_batchnorm(make, shape, rng):
    x = rng.standard_normal(shape) * 3 - 1
    dy = rng.standard_normal(shape)
    whole = make(shape[1]).double()
    whole.weight.data[...] = rng.uniform(0.5, 1.5, shape[1])
    y, dx = whole(x), whole.backward(dy)
    n = shape[0] // 3

    def rank(comm):
        bn = make(shape[1]).double()
        bn.weight.data[...] = whole.weight.data
        sync = SyncBatchNorm(bn, comm)
        mine = slice(n * comm.rank, n * (comm.rank + 1))
        out = sync(x[mine])
        back = sync.backward(3 * dy[mine])             # the gradient of the local mean loss
        return out, back / 3, sync.weight.grad / 3, sync.bias.grad / 3, dict(sync.state_dict())

    parts = run_ranks(3, rank)
    np.testing.assert_allclose(np.concatenate([p[0] for p in parts]), y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.concatenate([p[1] for p in parts]), dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sum(p[2] for p in parts), whole.weight.grad, rtol=1e-12)
    np.testing.assert_allclose(sum(p[3] for p in parts), whole.bias.grad, rtol=1e-12, atol=1e-14)
    for name, value in whole.state_dict().items():          # same names, same running statistics
        for p in parts:
            np.testing.assert_allclose(p[4][name], value, rtol=1e-12)


def test_sync_batchnorm_in_eval_mode_sends_nothing(rng):
    class Silent:
        rank, size = 0, 2

        def allreduce_sum(self, a):
            raise AssertionError("eval mode must not communicate")
    bn = nn.BatchNorm2d(3)
    bn.running_mean[...] = [0.1, 0.2, 0.3]
    sync = SyncBatchNorm(bn, Silent()).eval()
    x = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
    np.testing.assert_allclose(sync(x), bn.eval()(x))


def test_convert_replaces_every_batchnorm_and_keeps_the_names():
    from minigan.distributed import convert_sync_batchnorm
    from minigan.gan.models import dcgan28_generator
    G = dcgan28_generator()
    names = list(G.state_dict())
    params = G.parameters()
    G = convert_sync_batchnorm(G, SingleProcess())
    assert [type(m).__name__ for m in G].count("SyncBatchNorm") == 3
    assert list(G.state_dict()) == names
    assert all(a is b for a, b in zip(G.parameters(), params))   # the same Parameters


def test_sharding_takes_this_processes_rows_and_tells_dropout():
    class Rank1:
        rank, size = 1, 4
    dp = DataParallel(Rank1())
    np.testing.assert_array_equal(dp.shard(np.arange(8)), [2, 3])
    with pytest.raises(ValueError, match="a global batch of 10 cannot be split evenly over 4"):
        dp.shard(np.arange(10))
    D = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5), nn.Sequential(nn.Dropout(0.2)))
    with dp.sharding(8, D):
        assert D[1].first_sample == 2 and D[2][0].first_sample == 2
    assert D[1].first_sample == 0
