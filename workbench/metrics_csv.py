"""A run's ``metrics.csv``: one row per iteration or epoch, appended and flushed at once.

On resume, rows past the checkpoint are dropped: the resumed run recomputes them
identically, so the file of an interrupted run equals that of an uninterrupted one.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Sequence

from workbench.files import atomic_write_text


class MetricsCSV:
    """Append-only CSV with fixed ``columns``; ``index_column`` numbers the rows (1-based)."""

    def __init__(self, path: str | Path, columns: Sequence[str], index_column: str,
                 resume_at: int | None = None) -> None:
        self.path = Path(path)
        self.columns = tuple(columns)
        if resume_at is not None and self.path.exists():
            self._keep_rows_up_to(index_column, resume_at)
        elif self.path.exists():
            self.path.unlink()
        if not self.path.exists() or self.path.stat().st_size == 0:
            atomic_write_text(self.path, ",".join(self.columns) + "\n")

    def _keep_rows_up_to(self, index_column: str, last: int) -> None:
        with open(self.path, newline="") as handle:
            rows = [row for row in csv.DictReader(handle) if row.get(index_column) and int(row[index_column]) <= last]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path, out.getvalue())

    def write(self, row: dict[str, Any]) -> None:
        with open(self.path, "a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=self.columns, extrasaction="ignore").writerow(
                {key: format_value(row.get(key)) for key in self.columns})


def format_value(value: Any) -> Any:
    """Floats with 6 significant digits, NaN as ``nan``, missing values empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return value
