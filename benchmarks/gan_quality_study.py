"""Seeds × settings study of the flagship's sample quality (issue 14).

Trains examples/mnist_dcgan.py's models and the TensorFlow recipe (batch 64, Adam 2e-4, betas
(0.5, 0.999), the 4,500 offline training digits) changed as each setting says, for each seed,
and scores the samples at chosen epochs with the package's standard evaluation network
(minigan.eval): Fréchet distance in its feature space, classes covered, KL from uniform. Every
run keeps an average of G's weights (--ema) beside G, so each run scores both: "X" (G itself)
and "X + EMA" (the average) — the average costs no gradient work and does not change G's
training.

    python benchmarks/gan_quality_study.py --settings bce hinge-sn --seeds 1 2 3 --epochs 25
    python benchmarks/gan_quality_study.py --settings sn --warmups 9 4 2 --standing-stats
    python benchmarks/gan_quality_study.py --report          # the table from the saved rows

Averages: ``--warmups`` keeps one average per warm-up constant c (β_t = min(decay,
(1 + t)/(1 + c + t)): the average covers roughly the last 1/(c + 1) of training; c = 9, the
trainer's, is the sampler "EMA", another c is "EMA c<c>"). ``--standing-stats`` also scores
each average with its BatchNorm statistics recomputed for its own weights ("... +SS": running
statistics reset, then train-mode forwards of 20 noise batches of 100 averaged with equal weight)
instead of G's copied ones: the same computation as the trainer's ``--ema-statistics 2000``
(GeneratorAverage.recompute_statistics, noise from default_rng([seed, 98])).

Float rounding depends on the number of BLAS/numba threads, and a GAN's trajectory amplifies it:
the same seed gives another run with another thread count. Say which was used (the README's
rows: OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 for the batch-32 settings, two runs at a time).

Settings: bce (the TensorFlow recipe and the default before this study: BCE on logits, plain
D), hinge-sn (hinge loss, spectrally
normalised D), hinge (hinge loss only), sn (spectral norm only), sn-lr4 (spectral norm, Adam
4e-4 for G and D: twice the recipe's rate, which a spectrally normalised D may tolerate),
sn-b32 (spectral norm, batches of 32: twice the steps per epoch at about the same cost), b32
(batches of 32 alone). Rows go to
benchmarks/results/gan_quality_<machine>.csv, one per (setting, seed, epoch, sampler).
"""
import argparse
import csv
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bench_options import fraction, nonneg_int, positive_float, positive_int  # noqa: E402

SETTINGS = {"bce": dict(loss="bce_logits", spectral_norm=False),
            "hinge-sn": dict(loss="hinge", spectral_norm=True),
            "hinge": dict(loss="hinge", spectral_norm=False),
            "sn": dict(loss="bce_logits", spectral_norm=True),
            "sn-lr4": dict(loss="bce_logits", spectral_norm=True, lr_g=4e-4, lr_d=4e-4),
            "sn-b32": dict(loss="bce_logits", spectral_norm=True, batch_size=32),
            "b32": dict(loss="bce_logits", spectral_norm=False, batch_size=32)}
FIELDS = ["setting", "seed", "epoch", "sampler", "fd", "classes", "kl_uniform", "train_s", "machine"]
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def machine_slug():
    from bench_step import machine_name, slug
    return machine_name(), slug(machine_name())


def standing_statistics(model, noise_batches):
    """A copy of ``model`` with standing statistics (GeneratorAverage.recompute_statistics: the
    equal-weight mean over ``noise_batches`` of its own batch statistics), in eval mode."""
    from minigan.gan.ema import GeneratorAverage
    copy = GeneratorAverage(model, decay=0.5)          # only for its copy of the model
    copy.recompute_statistics(noise_batches)
    return copy.model.eval()


def run(setting, seed, epochs, score_at, n_samples, ema, path, machine, warmups=(9,),
        standing=False):
    import minigan as mg
    from minigan import gan
    from minigan.data import load_mnist_5k, scale_to_tanh_range
    from minigan.eval import Evaluator
    from minigan.gan.ema import GeneratorAverage
    from minigan.gan.models import dcgan28_discriminator, dcgan28_generator
    images, _ = load_mnist_5k("train")
    evaluator = Evaluator.load(verbose=False)
    mg.seed(seed)
    G = dcgan28_generator()
    D = dcgan28_discriminator(spectral_norm=SETTINGS[setting]["spectral_norm"])
    recipe = dict(dict(batch_size=64, lr_g=2e-4, lr_d=2e-4), **SETTINGS[setting])
    cfg = gan.TrainConfig(batch_size=recipe["batch_size"], epochs=epochs, seed=seed, loss=recipe["loss"],
                          ema=ema, lr_g=recipe["lr_g"], lr_d=recipe["lr_d"])
    rows = []
    extra = {}                                         # warm-up c -> average (the trainer keeps c = 9)

    def update_averages(trainer, row):                 # after each step, as the trainer's own
        for average in extra.values():
            average.update(trainer.G)
        return {}

    def score(trainer):
        epoch = trainer.step // trainer.steps_per_epoch
        if epoch not in score_at:
            return {}
        z = trainer._noise(np.random.default_rng([seed, 99]), n_samples)
        samplers = [("G", trainer.G)]
        averages = ([("EMA", trainer.ema.model)] if 9 in warmups else []) + [
            (f"EMA c{c:g}", extra[c].model) for c in extra]
        for name, model in averages:
            samplers.append((name, model))
            if standing:
                noise = trainer._noise(np.random.default_rng([seed, 98]), 2000)
                samplers.append((name + "+SS", standing_statistics(
                    model, [noise[i:i + 100] for i in range(0, 2000, 100)])))
        for sampler, model in samplers:
            was_training = model.training
            model.eval()
            samples = np.concatenate([mg.asnumpy(model(z[i:i + 500])) for i in range(0, n_samples, 500)])
            model.train(was_training)
            s = evaluator.score(samples, value_range=(-1.0, 1.0))
            rows.append(dict(setting=setting, seed=seed, epoch=epoch, sampler=sampler,
                             fd=round(s.frechet, 3), classes=s.coverage,
                             kl_uniform=round(s.kl_uniform, 4), train_s=round(trainer.elapsed, 1),
                             machine=machine))
            print(f"{setting} seed {seed} epoch {epoch} {sampler}: FD {s.frechet:.1f}, classes "
                  f"{s.coverage}, KL {s.kl_uniform:.3f}, {trainer.elapsed:.0f} s", flush=True)
        append(path, rows[-len(samplers):])
        return {}

    trainer = gan.GANTrainer(G, D, cfg, data=images[:, None], transform=scale_to_tanh_range,
                             quiet=True, progress=False, epoch_metrics=[score],
                             step_callbacks=[update_averages])
    extra.update({c: GeneratorAverage(trainer.G, ema, warmup=c) for c in warmups if c != 9})
    trainer.fit()


def append(path, rows):
    new = not os.path.isfile(path)
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            w.writeheader()
        w.writerows(rows)


def report(paths, epochs_shown=None, settings=None):
    """The table of the saved rows: per setting (G, then its average) and epoch, FD of each
    seed, the median and the worst seed, each as a change from today's default (bce, G)."""
    rows = []
    for path in paths:
        with open(path, newline="") as f:
            rows += [r for r in csv.DictReader(f) if settings is None or r["setting"] in settings]
    keys = sorted({(r["setting"], r["sampler"]) for r in rows},
                  key=lambda k: (list(SETTINGS).index(k[0]), k[1] != "G", k[1]))
    epochs = sorted({int(r["epoch"]) for r in rows} & set(epochs_shown or range(10 ** 6)))

    def select(setting, sampler, epoch):
        return sorted((r for r in rows if r["setting"] == setting and r["sampler"] == sampler
                       and int(r["epoch"]) == epoch), key=lambda r: int(r["seed"]))

    print("| setting | epoch | FD seed 1 / 2 / 3 | median FD (vs bce) | worst seed (vs bce) | "
          "classes (each seed) | KL (each seed) | train s (median) |")
    print("|---|---|---|---|---|---|---|---|")
    for epoch in epochs:
        base = [float(r["fd"]) for r in select("bce", "G", epoch)]
        for setting, sampler in keys:
            sel = select(setting, sampler, epoch)
            if not sel:
                continue
            fds = [float(r["fd"]) for r in sel]
            seeds = "" if len(sel) == 3 else f" (seeds {','.join(r['seed'] for r in sel)})"

            def vs(value, ref):
                return f"{value:.1f} ({100 * (value / ref - 1):+.0f}%)" if ref else f"{value:.1f}"
            name = setting + ("" if sampler == "G" else f" + {sampler}")
            print(f"| {name} | {epoch} | {' / '.join(f'{v:.1f}' for v in fds)}{seeds} | "
                  f"{vs(np.median(fds), base and np.median(base))} | "
                  f"{vs(max(fds), base and max(base))} | "
                  f"{' / '.join(r['classes'] for r in sel)} | "
                  f"{' / '.join(format(float(r['kl_uniform']), '.3f') for r in sel)} | "
                  f"{np.median([float(r['train_s']) for r in sel]):.0f} |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--settings", nargs="+", default=["bce", "hinge-sn"], choices=list(SETTINGS))
    p.add_argument("--seeds", type=nonneg_int, nargs="+", default=[1, 2, 3])
    p.add_argument("--epochs", type=positive_int, default=25)
    p.add_argument("--score-at", type=positive_int, nargs="+", default=[5, 10, 15, 20, 25])
    p.add_argument("--samples", type=positive_int, default=2000)
    p.add_argument("--ema", type=fraction, default=0.999)
    p.add_argument("--warmups", type=positive_float, nargs="+", default=[9],
                   help="one average per warm-up constant (9: the trainer's, sampler 'EMA')")
    p.add_argument("--standing-stats", action="store_true",
                   help="also score each average with BatchNorm statistics of its own weights")
    p.add_argument("--out", default=None, help="CSV of rows (default: benchmarks/results/gan_quality_<machine>.csv)")
    p.add_argument("--report", action="store_true", help="print the table of the saved rows and stop")
    p.add_argument("--report-epochs", type=positive_int, nargs="+", default=None,
                   help="epochs the table shows (default: every scored epoch)")
    p.add_argument("--report-settings", nargs="+", default=None, help="settings the table shows")
    p.add_argument("--also", nargs="+", default=[], metavar="CSV",
                   help="with --report: rows of more CSV files in the same table")
    args = p.parse_args(argv)
    machine, slug = machine_slug()
    path = args.out or os.path.join(RESULTS, f"gan_quality_{slug}.csv")
    if args.report:
        return report([path] + args.also, args.report_epochs, args.report_settings)
    for seed in args.seeds:
        for setting in args.settings:
            t0 = time.perf_counter()
            run(setting, seed, args.epochs, set(args.score_at), args.samples, args.ema, path, machine,
                args.warmups, args.standing_stats)
            print(f"{setting} seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)
    return report([path], args.report_epochs)


if __name__ == "__main__":
    sys.exit(main())
