"""StopSignals: the first Ctrl-C/SIGTERM asks to stop after the step, a second stops at once."""
import os
import signal

import pytest

from minigan.gan.stop import StopSignals, TrainingInterrupted


def test_first_signal_asks_second_one_stops_and_the_handlers_come_back():
    said = []
    before = signal.getsignal(signal.SIGTERM)
    stop = StopSignals(said.append)
    with stop.installed():
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested == signal.SIGTERM and "SIGTERM: finishing this step" in said[0]
        with pytest.raises(TrainingInterrupted) as e:
            os.kill(os.getpid(), signal.SIGINT)
        assert e.value.signum == signal.SIGINT and isinstance(e.value, KeyboardInterrupt)
    assert signal.getsignal(signal.SIGTERM) is before


def test_outside_the_main_thread_nothing_is_installed():
    import threading
    seen = []

    def run():
        with StopSignals(print).installed() as stop:
            seen.append(stop.requested)
    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert seen == [False]
