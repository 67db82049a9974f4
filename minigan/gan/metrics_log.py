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
        CRLF line ends, extra or missing fields; rows without a usable kind and step are dropped."""
        path = self.folder.path(METRICS)
        if path is None or not os.path.isfile(path):
            return []
        rows = {}
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
            for r in csv.DictReader(f):
                row = _parse_row(r)
                if row is not None and row["step"] <= up_to_step:
                    rows.pop((row["kind"], row["step"]), None)      # re-inserted: keeps file order
                    rows[(row["kind"], row["step"])] = row
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


def _parse_row(fields):
    """A metrics.csv row (text fields) as a dict of numbers and text, or None if it has no
    kind 'step'/'epoch' or no integer step."""
    row = {}
    for k, v in fields.items():
        if k is None or v is None or not isinstance(v, str) or v.strip() == "":
            continue                      # fields beyond the header, or empty ones
        k, v = k.strip(), v.strip()
        if k == "kind":
            row[k] = v
            continue
        try:
            row[k] = int(float(v)) if k in ("epoch", "step") else float(v)
        except ValueError:
            if k in ("epoch", "step"):
                return None
            row[k] = v
    if row.get("kind") not in ("step", "epoch") or "step" not in row:
        return None
    return row
