"""``workbench curves``: window means of runs' metrics against hand-computed values, and its errors."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from workbench.analysis.curves import compare_curves, load_run_curve, windowed_means
from workbench.cli import main
from workbench.errors import WorkbenchError


def write_run(folder: Path, rows: list[tuple[float, str]]) -> Path:
    folder.mkdir(parents=True)
    lines = ["iteration,wall_time_s,episode_return"] + [f"{k + 1},{t},{r}" for k, (t, r) in enumerate(rows)]
    (folder / "metrics.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_window_means_match_hand_computed(tmp_path: Path) -> None:
    # Windows of 10 s: (0, 10] holds 2 and 4; (10, 20] holds 10 (the nan row is skipped);
    # (20, 30] is empty; (30, 40] holds 7.
    run = write_run(tmp_path / "a", [(5, "2"), (10, "4"), (12, "nan"), (20, "10"), (35, "7")])
    means = windowed_means(load_run_curve(run), "wall_time_s", "episode_return", 10.0)
    assert list(means.index) == [10.0, 20.0, 30.0, 40.0]
    assert means.iloc[0] == 3.0 and means.iloc[1] == 10.0 and math.isnan(means.iloc[2]) and means.iloc[3] == 7.0


def test_runs_with_the_same_folder_name_keep_distinct_columns(tmp_path: Path) -> None:
    first = write_run(tmp_path / "x" / "run", [(1, "1")])
    second = write_run(tmp_path / "y" / "run", [(1, "2"), (2, "4")])
    table = compare_curves([load_run_curve(first), load_run_curve(second)], "wall_time_s", "episode_return", 5.0)
    assert list(table.columns) == [str(first), str(second)]
    assert table.loc[5.0].tolist() == [1.0, 3.0]


@pytest.mark.parametrize(
    "problem, message",
    [("missing", "no such metrics file"), ("column", "no column 'nope'"), ("garbage", "not a readable metrics CSV")],
)
def test_bad_input_is_a_one_line_error(tmp_path: Path, problem: str, message: str) -> None:
    run = write_run(tmp_path / "a", [(1, "1")])
    y = "episode_return"
    if problem == "missing":
        run = tmp_path / "elsewhere"
    elif problem == "column":
        y = "nope"
    else:
        (run / "metrics.csv").write_bytes(b"a,b\n1,2,3,4\n\xff\xfe")
    with pytest.raises(WorkbenchError, match=message) as error:
        windowed_means(load_run_curve(run), "wall_time_s", y, 10.0)
    assert "\n" not in str(error.value)


def test_command_prints_and_writes_table_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    fast = write_run(tmp_path / "fast", [(100, "1"), (250, "3"), (400, "8")])
    slow = write_run(tmp_path / "slow", [(200, "2"), (500, "6")])
    out, plot = tmp_path / "table.csv", tmp_path / "curves.html"
    code = main(["curves", str(fast), str(slow), "--window", "300", "--out", str(out), "--plot", str(plot)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "fast" in printed and "slow" in printed
    table = pd.read_csv(out, index_col=0)
    assert table["fast"].tolist() == [2.0, 8.0] and table["slow"].tolist() == [2.0, 6.0]
    assert "plotly" in plot.read_text()[:100_000].lower()
    assert main(["curves", str(tmp_path / "none")]) == 2
