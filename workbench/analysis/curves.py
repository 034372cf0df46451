"""Learning curves of several runs side by side, in windows of wall time (or steps, or epochs).

Two PPO settings are fairly compared by what each learns in the same wall time, not per sample:
``windowed_means`` averages one column of each run's ``metrics.csv`` over consecutive windows
of another (e.g. the iteration's mean episode return over 5-minute windows of ``wall_time_s``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError

METRICS_FILE = "metrics.csv"


@dataclass(frozen=True)
class RunCurve:
    """One run's ``metrics.csv`` (``name`` is the run folder's name)."""

    name: str
    path: Path
    frame: pd.DataFrame


def load_run_curve(run: str | Path) -> RunCurve:
    """A run folder (or its ``metrics.csv``) read as a table; a one-line error if it cannot be."""
    path = Path(run)
    csv_path = path / METRICS_FILE if path.is_dir() else path
    if not csv_path.is_file():
        raise WorkbenchError(f"{csv_path}: no such metrics file (give a run folder holding {METRICS_FILE})")
    try:
        frame = pd.read_csv(csv_path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise WorkbenchError(f"{csv_path}: not a readable metrics CSV ({str(error).splitlines()[0]})") from None
    name = csv_path.parent.name if csv_path.name == METRICS_FILE else csv_path.stem
    return RunCurve(name=name, path=csv_path, frame=frame)


def windowed_means(curve: RunCurve, x: str, y: str, window: float) -> pd.Series:
    """Mean of column ``y`` over the rows whose ``x`` lies in ((k - 1) * window, k * window], k = 1, 2, ...

    Returns a Series indexed by each window's upper edge (window, 2 * window, ...) up to the
    last window holding a row; windows without rows are NaN. Rows where ``y`` is not a
    number (e.g. an iteration that finished no episode), or ``x`` is not positive, are left out.
    """
    if not window > 0 or not math.isfinite(window):
        raise WorkbenchError(f"window must be a positive number (got {window})")
    for column in (x, y):
        if column not in curve.frame.columns:
            known = ", ".join(curve.frame.columns)
            raise WorkbenchError(f"{curve.path}: no column {column!r} (columns: {known})")
    xs = pd.to_numeric(curve.frame[x], errors="coerce")
    ys = pd.to_numeric(curve.frame[y], errors="coerce")
    keep = xs.notna() & ys.notna() & (xs > 0)
    if not keep.any():
        raise WorkbenchError(f"{curve.path}: no rows with a number in both {x!r} and {y!r}")
    bins = np.ceil(xs[keep] / window).astype(int)  # the row at x falls in window k = ceil(x / window)
    means = ys[keep].groupby(bins).mean()
    edges = range(1, int(bins.max()) + 1)
    return pd.Series([means.get(k, float("nan")) for k in edges], index=[k * window for k in edges], name=curve.name)


def compare_curves(curves: list[RunCurve], x: str, y: str, window: float) -> pd.DataFrame:
    """One column per run, one row per window (upper edge of ``x`` as the index).

    Columns are named by run folder, or by the whole path where two runs share a folder name.
    """
    names = [curve.name for curve in curves]
    if len(set(names)) < len(names):
        names = [str(curve.path.parent if curve.path.name == METRICS_FILE else curve.path) for curve in curves]
    columns = [windowed_means(curve, x, y, window).rename(name) for curve, name in zip(curves, names)]
    return pd.concat(columns, axis=1)


def curves_figure(curves: list[RunCurve], table: pd.DataFrame, x: str, y: str, window: float):
    """Plotly figure: each run's per-row ``y`` (faint) and its window means (markers, solid)."""
    import plotly.graph_objects as go
    from plotly.colors import qualitative

    figure = go.Figure()
    for k, (curve, name) in enumerate(zip(curves, table.columns)):
        color = qualitative.Plotly[k % len(qualitative.Plotly)]
        rows = curve.frame[[x, y]].apply(pd.to_numeric, errors="coerce").dropna()
        figure.add_scatter(x=rows[x], y=rows[y], mode="lines", name=f"{name} (per row)", opacity=0.3,
                           line={"color": color, "width": 1})
        means = table[name].dropna()
        figure.add_scatter(x=[edge - window / 2 for edge in means.index], y=means.values, mode="lines+markers",
                           name=f"{name} (window mean)", line={"color": color, "width": 3})
    figure.update_layout(xaxis_title=x, yaxis_title=y, template="plotly_white", legend={"orientation": "h"})
    return figure
