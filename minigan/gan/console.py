"""The trainer's console: messages, warnings, the per-epoch progress bar (tqdm) or, without it,
a few step lines per epoch."""
import sys

__all__ = ["Console"]


class Console:
    """What the trainer tells the user.

    say: a function taking each message (None: print it, stdout; warnings to stderr); quiet: no
    bar and no step lines; progress: True/False forces the bar on/off (None: a bar when stderr
    is a terminal and not quiet).
    """

    def __init__(self, steps_per_epoch, epochs, *, say=None, quiet=False, progress=None):
        self.steps_per_epoch, self.epochs = steps_per_epoch, epochs
        self.say_fn, self.quiet, self.progress = say, quiet, progress
        self.bar = None

    def say(self, msg, file=None):
        if self.say_fn is not None:
            self.say_fn(msg)
            return
        file = file or sys.stdout
        if self.bar is not None:
            from tqdm import tqdm
            tqdm.write(msg, file=file)
        else:
            print(msg, file=file, flush=True)

    def warn(self, msg):
        self.say(msg, file=sys.stderr)

    def bar_enabled(self):
        if self.progress is not None:
            return bool(self.progress)
        return not self.quiet and sys.stderr.isatty()

    def open_bar(self, epoch, pos):
        """A bar for epoch ``epoch`` (counted from 0) that starts at step ``pos`` of it."""
        if not self.bar_enabled():
            return
        from tqdm import tqdm
        self.bar = tqdm(total=self.steps_per_epoch, initial=pos, leave=False, file=sys.stderr,
                        desc=f"epoch {epoch + 1}/{self.epochs}", unit="step", dynamic_ncols=True)

    def close_bar(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def step_done(self, step, stats, seconds, images):
        """Advance the bar; without one, print a line four times per epoch (not at its end)."""
        if self.bar is not None:
            self.bar.set_postfix_str(
                f"loss_D {stats['loss_D']:.3f}  loss_G {stats['loss_G']:.3f}  "
                f"{images / max(seconds, 1e-9):.0f} img/s", refresh=False)
            self.bar.update(1)
            return
        every = self._print_every()
        if not self.quiet and every and step % every == 0 and step % self.steps_per_epoch != 0:
            self.say(f"  step {step}  loss_D {stats['loss_D']:.4f}  loss_G "
                     f"{stats['loss_G']:.4f}  D(x) {stats['D_x']:.3f}  D(G(z)) "
                     f"{stats['D_G_z']:.3f}  {images / max(seconds, 1e-9):.0f} img/s")

    def _print_every(self):
        spe = self.steps_per_epoch
        return max(1, spe // 4) if spe >= 4 else 0
