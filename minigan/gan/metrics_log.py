"""The trainer's metrics log: accumulated step numbers, rows of metrics.csv, losses.png."""
import csv
import io
import math
import os

from ..files.atomic import atomic_write
from .outputs import LOSSES_PNG, METRICS
from .plots import plot_losses

__all__ = ["MetricsLog", "CSV_COLUMNS"]

CSV_COLUMNS = ["kind", "epoch", "step", "time", "images_per_s", "loss_D", "loss_G", "D_x",
               "D_G_z", "diversity", "epoch_time"]


class MetricsLog:
    """The run's numbers: ``history`` (rows: dicts, a "step" row every ``log_every`` steps and an
    "epoch" row at each epoch end), the two running sums they are made from, and their files
    (``metrics.csv``, ``losses.png``) in ``folder`` (an :class:`~minigan.gan.outputs.OutputFolder`)."""

    def __init__(self, folder, steps_per_epoch, title=None):
        self.folder, self.steps_per_epoch, self.title = folder, steps_per_epoch, title
        self.history = []
        self.epoch_acc = self.new_acc()      # sums since the epoch began
        self.log_acc = self.new_acc()        # sums since the last step row

    @staticmethod
    def new_acc():
        return {"n": 0, "loss_D": 0.0, "loss_G": 0.0, "D_x": 0.0, "D_G_z": 0.0, "seconds": 0.0,
                "images": 0}

    def new_epoch(self):
        self.epoch_acc = self.new_acc()

    def add_step(self, stats, seconds, images):
        """Add one step's numbers (a dict with loss_D, loss_G, D_x, D_G_z) to both sums."""
        for acc in (self.epoch_acc, self.log_acc):
            acc["n"] += 1
            acc["seconds"] += seconds
            acc["images"] += images
            for k in ("loss_D", "loss_G", "D_x", "D_G_z"):
                acc[k] += stats[k]

    def step_row(self, step, elapsed):
        """The row of the steps since the last one (and start a new sum)."""
        row, self.log_acc = self._row("step", self.log_acc, step, elapsed), self.new_acc()
        return row

    def epoch_row(self, step, elapsed, diversity):
        """The row of the epoch that ends at ``step``."""
        row = self._row("epoch", self.epoch_acc, step, elapsed)
        row["diversity"] = diversity
        row["epoch_time"] = round(self.epoch_acc["seconds"], 3)
        return row

    def _row(self, kind, acc, step, elapsed):
        n = max(acc["n"], 1)
        return {"kind": kind, "epoch": (step - 1) // self.steps_per_epoch + 1, "step": step,
                "time": round(elapsed, 3),
                "images_per_s": round(acc["images"] / acc["seconds"], 2) if acc["seconds"] > 0 else "",
                "loss_D": acc["loss_D"] / n, "loss_G": acc["loss_G"] / n,
                "D_x": acc["D_x"] / n, "D_G_z": acc["D_G_z"] / n}

    def write(self):
        """Rewrite metrics.csv from the history (atomically): the fixed columns, then any extra
        keys (epoch metrics, step callbacks) in order of first appearance."""
        if not self.folder:
            return None
        cols = list(CSV_COLUMNS)
        for row in self.history:
            cols += [k for k in row if k not in cols]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for row in self.history:
            w.writerow({k: (repr(float(v)) if isinstance(v, float) else v) for k, v in row.items()})
        data = buf.getvalue().encode()
        return atomic_write(self.folder.path(METRICS), lambda f: f.write(data))

    def read(self, up_to_step):
        """Rows of an existing metrics.csv up to ``up_to_step`` (for resume), each (kind, step)
        once (the last copy wins). Tolerates what a spreadsheet leaves: a UTF-8 byte-order mark,
        CRLF line ends, extra or missing fields. A row that cannot be read (no kind 'step' or
        'epoch', a step that is not a whole number, a number that is not finite, text where a
        number belongs, a NUL byte, a field over MAX_FIELD characters) is refused with a
        ValueError naming the file and the row: no row vanishes silently."""
        path = self.folder.path(METRICS)
        if path is None or not os.path.isfile(path):
            return []
        rows = {}
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
            reader = csv.DictReader(_bounded_lines(f, path))
            try:
                for r in reader:
                    row = _parse_row(r, up_to_step, f"{path} row {reader.line_num}")
                    if row is not None:
                        rows.pop((row["kind"], row["step"]), None)      # re-inserted: keeps file order
                        rows[(row["kind"], row["step"])] = row
            except csv.Error as e:
                raise ValueError(f"{path} row {reader.line_num}: cannot be read ({e}); fix or "
                                 f"delete that row") from None
        return list(rows.values())

    def plot(self):
        """losses.png from the step rows."""
        if not self.folder:
            return None
        steps = [r for r in self.history if r.get("kind") == "step"]
        if not steps:
            return None
        epochs = [r for r in self.history if r.get("kind") == "epoch"]
        return plot_losses(steps, self.folder.path(LOSSES_PNG), title=self.title, epoch_rows=epochs)

    def state(self):
        """The two running sums (the history itself is metrics.csv)."""
        return {"epoch_acc": self.epoch_acc, "log_acc": self.log_acc}

    def load_state(self, meta, step):
        """Restore the sums from a checkpoint's ``meta`` (checked: every sum, each a finite
        number) and the history from metrics.csv."""
        for name in ("epoch_acc", "log_acc"):
            acc, want = meta[name], self.new_acc()
            if set(acc) != set(want) or not all(
                    isinstance(acc[k], type(v)) and not isinstance(acc[k], bool) and math.isfinite(acc[k])
                    and acc[k] >= (0 if k in ("n", "images", "seconds") else -math.inf)
                    for k, v in want.items() if k in acc):
                raise ValueError(f"its entry {name!r} is {acc!r}, expected the sums "
                                 f"{sorted(want)} as finite numbers (n, images: whole numbers >= 0)")
        self.epoch_acc, self.log_acc = dict(meta["epoch_acc"]), dict(meta["log_acc"])
        self.history = self.read(step)


MAX_FIELD = 10_000          # characters in one field: far more than any number or name


def _bounded_lines(f, path):
    """The file's lines, refusing NUL bytes and enormous lines (csv would raise, or hold them)."""
    for n, line in enumerate(f, 1):
        if "\0" in line:
            raise ValueError(f"{path} row {n}: holds a NUL byte (a damaged file?); fix or delete "
                             f"that row")
        if len(line) > 4 * MAX_FIELD:
            raise ValueError(f"{path} row {n}: is {len(line):,} characters long, more than a "
                             f"metrics row can be; fix or delete that row")
        yield line


def _parse_row(fields, up_to_step, where):
    """A metrics.csv row (text fields) as a dict of numbers and text; None for a row after
    ``up_to_step`` (not resumed); a ValueError naming ``where`` for a row that cannot be used."""
    row = {}
    for k, v in fields.items():
        if k is None or v is None or not isinstance(v, str) or v.strip() == "":
            continue                      # fields beyond the header, or empty ones
        k, v = k.strip(), v.strip()
        if len(v) > MAX_FIELD:
            raise ValueError(f"{where}: its {k} field is {len(v):,} characters long; fix or "
                             f"delete that row")
        if k == "kind":
            row[k] = v
            continue
        try:
            number = float(v)
        except ValueError:
            if k in CSV_COLUMNS:
                raise ValueError(f"{where}: {k} is {v[:40]!r}, expected a number; fix or delete "
                                 f"that row") from None
            row[k] = v                    # an extra column (an epoch metric's text)
            continue
        if k in ("epoch", "step") and not (math.isfinite(number) and number == int(number)):
            raise ValueError(f"{where}: {k} is {v[:40]!r}, expected a whole number; fix or "
                             f"delete that row")
        row[k] = int(number) if k in ("epoch", "step") else number
    if row.get("kind") not in ("step", "epoch") or "step" not in row:
        raise ValueError(f"{where}: it has no kind 'step' or 'epoch' and step number (kind "
                         f"{row.get('kind')!r}, step {row.get('step')!r}); fix or delete that row")
    if row["step"] > up_to_step:
        return None
    for k, v in row.items():           # (an epoch metric of its own column may be NaN: undefined)
        if isinstance(v, float) and not math.isfinite(v) and not (k not in CSV_COLUMNS and v != v):
            raise ValueError(f"{where}: {k} is {fields[k].strip()[:40]!r}, not a finite number "
                             f"(an edited value?); fix or delete that row")
    return row
