"""Per-iteration metrics: ``RUN_DIR/metrics.csv`` (always) and TensorBoard (when installed)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from workbench.training.checkpoint import atomic_write_text

METRIC_COLUMNS: tuple[str, ...] = (
    "iteration",  # 1-based, the iteration that produced the row
    "env_steps",  # environment steps so far (all envs)
    "wall_time_s",  # training seconds so far (summed over sittings)
    "episodes",  # episodes finished in this iteration
    "episode_return",  # mean raw return of the episodes finished in this iteration (NaN if none)
    "episode_length",  # their mean length
    "recent_return",  # mean raw return of the last `recent_episodes` finished episodes
    "policy_loss",
    "value_loss",
    "approx_kl",  # mean over the minibatches that ran
    "clip_fraction",
    "epochs_run",  # epochs before the KL early stop (fractional: minibatches / minibatches per epoch)
    "lr",
    "explained_variance",
    "reward_scale",  # running std of the discounted return that rewards are divided by
    "sim_time_s",  # this iteration: stepping the environments
    "policy_time_s",  # this iteration: acting (model forward passes during the rollout)
    "learner_time_s",  # this iteration: GAE + PPO update + normaliser update
    "steps_per_s",  # this iteration: env steps / wall time
)


class MetricsWriter:
    """Appends one row per iteration to metrics.csv (flushed at once)."""

    def __init__(self, run_dir: str | Path, resume_iteration: int | None = None, tensorboard: bool = True) -> None:
        self.path = Path(run_dir) / "metrics.csv"
        if resume_iteration is not None and self.path.exists():
            self._truncate_after(resume_iteration)
        new_file = not self.path.exists() or self.path.stat().st_size == 0
        self._handle = open(self.path, "a", newline="")
        self._writer = csv.DictWriter(self._handle, fieldnames=METRIC_COLUMNS, extrasaction="ignore")
        if new_file:
            self._writer.writeheader()
            self._handle.flush()
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter  # optional dependency

                self._tb = SummaryWriter(log_dir=str(Path(run_dir) / "tensorboard"))
            except Exception:
                self._tb = None

    def _truncate_after(self, iteration: int) -> None:
        """Drop rows written after the checkpoint we resume from (they will be recomputed identically)."""
        with open(self.path, newline="") as handle:
            rows = [row for row in csv.DictReader(handle) if row.get("iteration") and int(row["iteration"]) <= iteration]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=METRIC_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path, out.getvalue())

    def write(self, row: dict[str, Any]) -> None:
        formatted = {key: _format(row.get(key)) for key in METRIC_COLUMNS}
        self._writer.writerow(formatted)
        self._handle.flush()
        if self._tb is not None:
            step = int(row["env_steps"])
            for key in METRIC_COLUMNS[3:]:
                value = row.get(key)
                if isinstance(value, (int, float)) and math.isfinite(value):
                    self._tb.add_scalar(f"train/{key}", value, step)

    def close(self) -> None:
        self._handle.close()
        if self._tb is not None:
            self._tb.close()


def _format(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return value
