"""``RUN_DIR/metrics.csv`` of a distillation run: one row per epoch (the learning curve)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from workbench.metrics_csv import MetricsCSV

BASE_COLUMNS: tuple[str, ...] = (
    "epoch",  # 1-based epoch that produced the row
    "step",  # gradient steps so far
    "samples",  # transitions seen so far
    "loss",  # mean distillation loss (KL) over the epoch's minibatches
    "grad_norm",  # mean gradient norm before clipping
    "lr",  # learning rate of the epoch's last step
    "wall_time_s",  # training seconds so far (summed over sittings)
)
EVAL_PREFIX = "return_"  # + robot-set name: mean over robots of the per-robot mean return


def metric_columns(eval_sets: Sequence[str]) -> tuple[str, ...]:
    return BASE_COLUMNS + tuple(f"{EVAL_PREFIX}{name}" for name in eval_sets)


class EpochMetrics(MetricsCSV):
    """metrics.csv of a distillation run; on resume keeps the rows up to the checkpoint's epoch."""

    def __init__(self, run_dir: str | Path, columns: Sequence[str], keep_epochs: int | None = None) -> None:
        super().__init__(Path(run_dir) / "metrics.csv", columns, "epoch", resume_at=keep_epochs)
