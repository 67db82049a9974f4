"""The trainer's metrics log: accumulated step numbers, rows of metrics.csv, losses.png."""
import csv
import io
import os

from .checkpoint import atomic_write
from .plots import plot_losses

METRICS = "metrics.csv"
LOSSES_PNG = "losses.png"
CSV_COLUMNS = ["kind", "epoch", "step", "time", "images_per_s", "loss_D", "loss_G", "D_x",
               "D_G_z", "diversity", "epoch_time"]


class MetricsLog:
    """GANTrainer's part that keeps ``history`` (rows: dicts) and writes it out."""

    @staticmethod
    def _new_acc():
        return {"n": 0, "loss_D": 0.0, "loss_G": 0.0, "D_x": 0.0, "D_G_z": 0.0, "seconds": 0.0,
                "images": 0}

    def write_metrics(self):
        """Rewrite metrics.csv from the history (atomically): the fixed columns, then any extra
        keys (epoch metrics, step callbacks) in order of first appearance."""
        if self.out_dir is None:
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
        return atomic_write(self.path(METRICS), lambda f: f.write(data))

    def _read_metrics(self):
        """Rows of an existing metrics.csv up to the current step (for resume), each (kind, step)
        once (the last copy wins). Tolerates what a spreadsheet leaves: a UTF-8 byte-order mark,
        CRLF line ends, extra or missing fields; rows without a usable kind and step are dropped."""
        path = self.path(METRICS)
        if path is None or not os.path.isfile(path):
            return []
        rows = {}
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
            for r in csv.DictReader(f):
                row = _parse_row(r)
                if row is not None and row["step"] <= self.step:
                    rows.pop((row["kind"], row["step"]), None)      # re-inserted: keeps file order
                    rows[(row["kind"], row["step"])] = row
        return list(rows.values())

    def plot(self):
        """losses.png from the step rows."""
        if self.out_dir is None:
            return None
        steps = [r for r in self.history if r.get("kind") == "step"]
        if not steps:
            return None
        epochs = [r for r in self.history if r.get("kind") == "epoch"]
        title = self.run_config.get("title")
        return plot_losses(steps, self.path(LOSSES_PNG), title=title, epoch_rows=epochs)

    def _row(self, kind, acc):
        n = max(acc["n"], 1)
        row = {"kind": kind, "epoch": (self.step - 1) // self.steps_per_epoch + 1, "step": self.step,
               "time": round(self.elapsed, 3),
               "images_per_s": round(acc["images"] / acc["seconds"], 2) if acc["seconds"] > 0 else "",
               "loss_D": acc["loss_D"] / n, "loss_G": acc["loss_G"] / n,
               "D_x": acc["D_x"] / n, "D_G_z": acc["D_G_z"] / n}
        return row


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
