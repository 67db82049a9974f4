"""python -m minigan.learn — learn backprop by writing it (see docs/learn.md).

    python -m minigan.learn list                      # the track, and where you stand
    python -m minigan.learn start [DIR]               # the exercise files, into DIR
    python -m minigan.learn check linear [--dir DIR]  # grade one exercise
    python -m minigan.learn train [--dir DIR]         # the DCGAN, on the layers you wrote
"""
import argparse
import os
import sys

from . import track
from .checks import run_check
from .grading import Learner


def cmd_list(args):
    progress = track.load_progress(args.dir)
    print(f"the track (your folder: {args.dir})")
    for i, ex in enumerate(track.TRACK, 1):
        status = track.status(ex, args.dir, progress)
        print(f"{i:>3}. {ex.name:<17} {status:<12} {ex.title}")
    print("start with `python -m minigan.learn start`, then `check NAME` after each exercise")
    return 0


def cmd_start(args):
    folder = args.folder
    for ex, what in track.start(folder):
        if what == "kept":
            print(f"kept   {track.learner_path(ex, folder)} (edited: your work is not overwritten)")
        elif what == "wrote":
            print(f"wrote  {track.learner_path(ex, folder)}")
    print(f"the exercises are in {folder}/; begin with chain_rule.py, then "
          f"`python -m minigan.learn check chain_rule --dir {folder}`")
    return 0


def check_one(name, folder, quiet=False):
    """Grade one exercise; prints the result unless quiet; returns the Report."""
    ex = track.exercise(name)
    report, summary = run_check(Learner(folder), ex.name)
    track.record(folder, ex, report.ok)
    if not quiet:
        print("\n".join(report.lines(summary)))
        if not report.ok:
            print(f"  (edit {track.learner_path(ex, folder)} and run the check again; the reference "
                  f"is minigan's own layer, named in the file's docstring)")
    return report


def cmd_check(args):
    if not os.path.exists(track.learner_path(track.exercise(args.name), args.dir)):
        print(f"no {args.name}.py in {args.dir}: run `python -m minigan.learn start {args.dir}` first",
              file=sys.stderr)
        return 2
    return 0 if check_one(args.name, args.dir).ok else 1


def cmd_train(args):
    from .train import train                       # the GAN toolkit only when it is needed
    return train(args.dir, max_steps=args.max_steps, batch_size=args.batch_size, seed=args.seed,
                 out=args.out, data_dir=args.data_dir, statistics=args.standing_statistics)


def build_parser():
    p = argparse.ArgumentParser(
        prog="python -m minigan.learn", description="Learn backprop by writing it: a graded "
        "exercise track from the chain rule to a DCGAN trained on your own layers.",
        epilog="the track is explained in docs/learn.md")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    s = sub.add_parser("list", help="the exercises in order, with their status in your folder")
    s.add_argument("--dir", default=track.DEFAULT_DIR, help="your folder (default: %(default)s)")
    s.set_defaults(run=cmd_list)
    s = sub.add_parser("start", help="write the exercise files into DIR (never overwrites "
                       "a file you edited)")
    s.add_argument("folder", nargs="?", default=track.DEFAULT_DIR, metavar="DIR",
                   help="default: %(default)s")
    s.set_defaults(run=cmd_start)
    s = sub.add_parser("check", help="grade one exercise: which gradient is wrong, by how much, "
                       "and why")
    s.add_argument("name", metavar="NAME", choices=[e.name for e in track.TRACK],
                   help=", ".join(e.name for e in track.TRACK))
    s.add_argument("--dir", default=track.DEFAULT_DIR, help="your folder (default: %(default)s)")
    s.set_defaults(run=cmd_check)
    s = sub.add_parser("train", help="train the flagship DCGAN with every exercise you passed "
                       "swapped in, and write a sample grid")
    s.add_argument("--dir", default=track.DEFAULT_DIR, help="your folder (default: %(default)s)")
    s.add_argument("--max-steps", type=int, default=500, metavar="N",
                   help="training steps (default: %(default)s; the flagship trains 25 epochs)")
    s.add_argument("--batch-size", type=int, default=32, help="default: %(default)s, the flagship's")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--standing-statistics", type=int, default=2000, metavar="N",
                   help="noise samples from which the averaged G's BatchNorm statistics are "
                   "recomputed before it samples (default: %(default)s, the flagship's; 0: G's own)")
    s.add_argument("--out", default=None, help="where the grid goes (default: DIR/train)")
    s.add_argument("--data-dir", default=None, help="MNIST's folder (default: minigan's cache; "
                   "without the files, the 5,000 digits shipped with minigan)")
    s.set_defaults(run=cmd_train)
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train" and (args.max_steps < 1 or args.batch_size < 2
                                    or args.standing_statistics < 0):
        parser.error("--max-steps must be at least 1, --batch-size at least 2 and "
                     "--standing-statistics at least 0")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
