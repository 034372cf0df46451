"""Per-iteration metrics: ``RUN_DIR/metrics.csv`` (always) and TensorBoard (when installed)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from workbench.metrics_csv import MetricsCSV

METRICS_FILE = "metrics.csv"

# What one PPO update reports (NaN on an overlapped run's first iteration, which has nothing to learn from).
UPDATE_COLUMNS: tuple[str, ...] = (
    "policy_loss",
    "value_loss",
    "approx_kl",  # mean over the minibatches that ran
    "clip_fraction",
    "epochs_run",  # epochs before the KL early stop (fractional: minibatches / minibatches per epoch)
    "lr",
    "explained_variance",
)

METRIC_COLUMNS: tuple[str, ...] = (
    "iteration",  # 1-based, the iteration that produced the row
    "env_steps",  # environment steps so far (all envs)
    "wall_time_s",  # training seconds so far (summed over sittings)
    "episodes",  # episodes finished in this iteration
    "episode_return",  # mean raw return of the episodes finished in this iteration (NaN if none)
    "episode_length",  # their mean length
    "recent_return",  # mean raw return of the last `recent_episodes` finished episodes
    *UPDATE_COLUMNS,
    "reward_scale",  # running std of the discounted return that rewards are divided by
    "sim_time_s",  # this iteration: stepping the environments
    "policy_time_s",  # this iteration: acting (model forward passes during the rollout)
    "learner_time_s",  # this iteration: GAE + PPO update + normaliser update (overlapped: beside the rollout)
    "steps_per_s",  # this iteration: env steps / wall time
)


class MetricsWriter:
    """Appends one row per iteration to metrics.csv (and TensorBoard scalars when it is installed)."""

    def __init__(self, run_dir: str | Path, resume_iteration: int | None = None, tensorboard: bool = True) -> None:
        self.path = Path(run_dir) / METRICS_FILE
        self._csv = MetricsCSV(self.path, METRIC_COLUMNS, "iteration", resume_at=resume_iteration)
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter  # optional dependency

                self._tb = SummaryWriter(log_dir=str(Path(run_dir) / "tensorboard"))
            except Exception:
                self._tb = None

    def write(self, row: dict[str, Any]) -> None:
        self._csv.write(row)
        if self._tb is not None:
            step = int(row["env_steps"])
            for key in METRIC_COLUMNS[3:]:
                value = row.get(key)
                if isinstance(value, (int, float)) and math.isfinite(value):
                    self._tb.add_scalar(f"train/{key}", value, step)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def last_metrics_row(run_dir: str | Path) -> dict[str, str] | None:
    """The last row of ``RUN_DIR/metrics.csv`` (values as written), or None if it has none."""
    import csv

    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        return None
    with open(path, newline="") as handle:
        last = None
        for last in csv.DictReader(handle):
            pass
    return last
