"""``RUN_DIR/metrics.csv`` of a distillation run: one row per epoch (the learning curve)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Sequence

from workbench.training.checkpoint import atomic_write_text

BASE_COLUMNS: tuple[str, ...] = (
    "epoch",  # 1-based epoch that produced the row
    "step",  # gradient steps so far
    "samples",  # transitions seen so far
    "loss",  # mean distillation loss (KL) over the epoch's minibatches
    "grad_norm",  # mean gradient norm before clipping
    "lr",
    "wall_time_s",  # training seconds so far (summed over sittings)
)
EVAL_PREFIX = "return_"  # + robot-set name: mean over robots of the per-robot mean return


def metric_columns(eval_sets: Sequence[str]) -> tuple[str, ...]:
    return BASE_COLUMNS + tuple(f"{EVAL_PREFIX}{name}" for name in eval_sets)


class EpochMetrics:
    """Appends rows to metrics.csv; on resume drops rows past the checkpoint (they are recomputed)."""

    def __init__(self, run_dir: str | Path, columns: Sequence[str], keep_epochs: int | None = None) -> None:
        self.path = Path(run_dir) / "metrics.csv"
        self.columns = tuple(columns)
        if keep_epochs is not None and self.path.exists():
            with open(self.path, newline="") as handle:
                rows = [r for r in csv.DictReader(handle) if r.get("epoch") and int(r["epoch"]) <= keep_epochs]
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=self.columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
            atomic_write_text(self.path, out.getvalue())
        elif self.path.exists():
            self.path.unlink()
        if not self.path.exists():
            atomic_write_text(self.path, ",".join(self.columns) + "\n")

    def write(self, row: dict[str, Any]) -> None:
        with open(self.path, "a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=self.columns, extrasaction="ignore").writerow(
                {key: _format(row.get(key)) for key in self.columns})


def _format(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return value
