"""An exponential moving average of the generator's weights (Yazıcı et al. 2019, "The Unusual
Effectiveness of Averaging in GAN Training"; used by BigGAN and StyleGAN).

GAN training does not settle: G's weights keep circling around a good solution as D and G
answer each other. Averaging them over the last few hundred steps lands nearer its centre, and
costs no gradient work — one multiply-add per weight after each G step:

    θ_avg ← β_t·θ_avg + (1 − β_t)·θ,    β_t = min(decay, (1 + t)/(1 + warmup + t))
                                                                  (t: updates so far)

The warm-up β_t (warmup = 9: TensorFlow's ExponentialMovingAverage with num_updates) lets the
average forget the random initial weights quickly: step s weighs about ((s + 1)/(t + 1))^warmup,
so the average covers roughly the last 1/(warmup + 1) of training. Once β_t reaches ``decay``
(0.999: about the last 1,000 steps; at t ≈ 1,000·warmup) it stays there. Buffers (BatchNorm's
running statistics) are copied from G, not averaged: they describe G's current activations.
The averaged copy samples; it never trains.

Standing statistics (``recompute_statistics``; Brock et al. 2019, BigGAN): G's copied
statistics belong to G's weights, not to the average's. Before the average samples, its
BatchNorm running mean and variance can be recomputed for its own weights: reset, then the
equal-weight mean over a few noise batches of the batch statistics of train-mode forwards.
"""
import copy

from ..backend import get_array_module


class GeneratorAverage:
    """The averaged copy ``model`` of a generator, updated by :meth:`update` after each G step."""

    def __init__(self, G, decay, warmup=9):
        if not 0.0 < float(decay) < 1.0:
            raise ValueError(f"GeneratorAverage: decay must be in (0, 1), got {decay!r}")
        if not float(warmup) >= 0.0:
            raise ValueError(f"GeneratorAverage: warmup must be >= 0, got {warmup!r}")
        self.decay, self.warmup, self.updates = float(decay), float(warmup), 0
        self.statistics_at = None     # ``updates`` when the statistics were last recomputed
        shared = {id(m.comm): m.comm for m in G.modules() if hasattr(m, "comm")}   # MPI: not copied
        self.model = copy.deepcopy(G, shared)

    def beta(self):
        return min(self.decay, (1.0 + self.updates) / (1.0 + self.warmup + self.updates))

    def update(self, G):
        beta = self.beta()
        for avg, p in zip(self.model.parameters(), G.parameters()):
            avg.data *= avg.data.dtype.type(beta)
            avg.data += avg.data.dtype.type(1.0 - beta) * p.data
        for (name, avg), (_, b) in zip(self.model.named_buffers(), G.named_buffers()):
            get_array_module(avg).copyto(avg, b)
        self.updates += 1

    def recompute_statistics(self, noise_batches):
        """Standing statistics: every BatchNorm running mean/variance of the average becomes the
        mean over ``noise_batches`` of its batch statistics in a train-mode forward of that
        batch (momentum None: a cumulative average). Only the average's buffers change."""
        from ..nn.batchnorm import _BatchNorm
        norms = [m for m in self.model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
        momenta, was_training = [m.momentum for m in norms], self.model.training
        for m in norms:
            m.running_mean[...], m.running_var[...], m.num_batches_tracked[...] = 0, 1, 0
            m.momentum = None
        self.model.train()
        try:
            for z in noise_batches:
                self.model(z)
        finally:
            for m, momentum in zip(norms, momenta):
                m.momentum = momentum
            self.model.train(was_training)
        self.statistics_at = self.updates
