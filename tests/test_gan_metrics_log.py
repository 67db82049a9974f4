"""MetricsLog: step and epoch rows from the running sums, metrics.csv written and read back."""
import pytest

from minigan.gan.metrics_log import CSV_COLUMNS, MetricsLog
from minigan.gan.outputs import METRICS, OutputFolder

STATS = {"loss_D": 1.0, "loss_G": 2.0, "D_x": 0.5, "D_G_z": 0.25}


def test_rows_are_means_since_the_last_row():
    log = MetricsLog(OutputFolder(None), steps_per_epoch=4)
    log.add_step(STATS, 0.5, 8)
    log.add_step(dict(STATS, loss_D=3.0), 0.5, 8)
    row = log.step_row(2, elapsed=1.25)
    assert row == {"kind": "step", "epoch": 1, "step": 2, "time": 1.25, "images_per_s": 16.0,
                   "loss_D": 2.0, "loss_G": 2.0, "D_x": 0.5, "D_G_z": 0.25}
    assert log.log_acc["n"] == 0 and log.epoch_acc["n"] == 2      # the epoch's sum goes on
    log.add_step(STATS, 1.0, 8)
    log.add_step(STATS, 1.0, 8)
    row = log.epoch_row(4, elapsed=3.0, diversity=0.7)
    assert row["kind"] == "epoch" and row["epoch"] == 1 and row["loss_D"] == 1.5
    assert row["diversity"] == 0.7 and row["epoch_time"] == 3.0
    log.new_epoch()
    assert log.epoch_acc["n"] == 0


def test_without_a_folder_nothing_is_written():
    log = MetricsLog(OutputFolder(None), 4)
    log.history.append({"kind": "step", "step": 1})
    assert log.write() is None and log.plot() is None


def test_the_csv_round_trip_keeps_extra_columns_and_stops_at_the_step(tmp_path):
    log = MetricsLog(OutputFolder(str(tmp_path)), 2, title="t")
    for step in (1, 2, 3):
        log.add_step(STATS, 0.1, 4)
        log.history.append(dict(log.step_row(step, step * 0.1), fd=10.0 + step))
    log.write()
    header = (tmp_path / METRICS).read_text().splitlines()[0].split(",")
    assert header == CSV_COLUMNS + ["fd"]
    again = MetricsLog(OutputFolder(str(tmp_path)), 2)
    again.load_state(log.state(), step=2)
    assert [r["step"] for r in again.history] == [1, 2] and again.history[1]["fd"] == 12.0
    assert log.plot() == str(tmp_path / "losses.png") and (tmp_path / "losses.png").is_file()


def test_reading_tolerates_what_a_spreadsheet_leaves(tmp_path):
    (tmp_path / METRICS).write_bytes(
        b"\xef\xbb\xbfkind,step,loss_D\r\nstep,1,0.5\r\n\r\nstep,1,0.25,extra\r\n")
    rows = MetricsLog(OutputFolder(str(tmp_path)), 2).read(10)
    assert rows == [{"kind": "step", "step": 1, "loss_D": 0.25}]            # the last copy wins


@pytest.mark.parametrize("line, message", [(b"nonsense,,", "row 3: it has no kind 'step' or 'epoch'"),
                                           (b"step,x,1", "row 3: step is 'x', expected a number")])
def test_a_row_that_cannot_be_read_is_named_not_dropped(tmp_path, line, message):
    """Such rows used to vanish silently on resume (issue 26)."""
    (tmp_path / METRICS).write_bytes(b"kind,step,loss_D\r\nstep,1,0.5\r\n" + line + b"\r\n")
    with pytest.raises(ValueError, match=message):
        MetricsLog(OutputFolder(str(tmp_path)), 2).read(10)
