"""The trainer's console: messages and the per-epoch progress bar (tqdm)."""
import sys


class Progress:
    """GANTrainer's part that talks to the user."""

    def _say(self, msg, file=None):
        if self._say_fn is not None:
            self._say_fn(msg)
            return
        file = file or sys.stdout
        if self._bar is not None:
            from tqdm import tqdm
            tqdm.write(msg, file=file)
        else:
            print(msg, file=file, flush=True)

    def _warn(self, msg):
        self._say(msg, file=sys.stderr)

    def _progress_enabled(self):
        if self.progress is not None:
            return bool(self.progress)
        return not self.quiet and sys.stderr.isatty()

    def _open_bar(self, epoch, pos):
        if not self._progress_enabled():
            return
        from tqdm import tqdm
        self._bar = tqdm(total=self.steps_per_epoch, initial=pos, leave=False, file=sys.stderr,
                         desc=f"epoch {epoch + 1}/{self.config.epochs}", unit="step",
                         dynamic_ncols=True)

    def _close_bar(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
