"""How training stops early: on Ctrl-C, SIGTERM or SIGHUP after the current step (:class:`StopSignals`,
then :class:`TrainingInterrupted`), or on a NaN/inf loss (:class:`TrainingDiverged`)."""
import contextlib
import signal
import threading

__all__ = ["StopSignals", "TrainingInterrupted", "TrainingDiverged", "STOP_SIGNALS"]

# SIGHUP: the terminal the run was started from was closed (or an ssh session dropped)
STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


class TrainingDiverged(RuntimeError):
    """Training stopped on a non-finite loss; ``checkpoint`` is the file holding that state."""

    def __init__(self, message, checkpoint, step):
        super().__init__(message)
        self.checkpoint, self.step = checkpoint, step


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on a signal (SIGINT: Ctrl-C, SIGTERM or SIGHUP) after saving a checkpoint;
    ``signum`` is the signal, so a command line can exit with 128 + signum."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = int(signum)


class StopSignals:
    """While :meth:`installed`, SIGINT (Ctrl-C), SIGTERM (what ``kill``, schedulers and
    container stops send) and SIGHUP (a closed terminal) set ``requested`` to the signal, so
    the loop can finish its step and save; a second one raises :class:`TrainingInterrupted` at
    once. ``warn`` tells the user."""

    def __init__(self, warn):
        self.warn = warn
        self.requested = False

    @contextlib.contextmanager
    def installed(self):
        """Catch the signals (only the main thread can; elsewhere this does nothing)."""
        previous = {}
        if threading.current_thread() is threading.main_thread():
            previous = {s: signal.signal(s, self._on_signal) for s in STOP_SIGNALS}
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _on_signal(self, signum, frame):
        if self.requested:
            raise TrainingInterrupted(signum)
        self.requested = signum
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        self.warn(f"\n{name}: finishing this step, then saving a checkpoint "
                  f"(press Ctrl-C again to stop at once without saving)")
