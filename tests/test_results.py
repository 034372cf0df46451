"""The results table: standard errors by hand, rebuilding from evaluation CSVs, the plot, the CLI."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pandas as pd
import pytest
import torch

from workbench.analysis.results import summarize, table_from_index, write_plot
from workbench.errors import WorkbenchError


def _write_eval(folder: Path, name: str, returns: list[float]) -> str:
    frame = pd.DataFrame({"robot": [f"r{i}" for i in range(len(returns))], "episodes": 2, "mean_return": returns,
                          "std_return": 0.0, "mean_length": 10.0, "min_return": returns, "max_return": returns})
    frame.to_csv(folder / name, index=False)
    return name


def test_summary_by_hand() -> None:
    mean, sem = summarize(pd.DataFrame({"mean_return": [1.0, 2.0, 3.0, 6.0]}))
    assert mean == pytest.approx(3.0)
    assert sem == pytest.approx(math.sqrt((4 + 1 + 0 + 9) / 3) / 2)
    assert math.isnan(summarize(pd.DataFrame({"mean_return": [5.0]}))[1])


def test_table_and_plot_from_csvs(tmp_path) -> None:
    entries = []
    for method, params, flops, values in (
            ("teacher", 1000, 50000, {"train": [10.0, 20.0], "test": [8.0, 12.0], "unseen": [-1.0, -2.0]}),
            ("hn", 100, 200, {"train": [9.0, 19.0], "test": [10.0, 12.0], "unseen": [-3.0, -4.0]})):
        for robot_set, returns in values.items():
            csv_name = _write_eval(tmp_path, f"{method}__{robot_set}.csv", returns)
            entries.append({"method": method, "robot_set": robot_set, "csv": csv_name, "params": params,
                            "flops": flops})
    (tmp_path / "index.json").write_text(json.dumps({"entries": entries}))
    table = table_from_index(tmp_path)
    row = table[(table.method == "hn") & (table.robot_set == "train")].iloc[0]
    assert row.mean_return == pytest.approx(14.0) and row.std_error == pytest.approx(5.0)
    assert row.vs_teacher == pytest.approx(14.0 / 15.0) and row.params == 100 and row.flops == 200
    assert table[(table.method == "hn") & (table.robot_set == "test")].iloc[0].vs_teacher == pytest.approx(1.1)
    # A teacher that scores below zero gives no meaningful ratio (-3.5 / -1.5 is not "2.3x the teacher").
    assert table[table.robot_set == "unseen"].vs_teacher.isna().all()
    from workbench.analysis.results import format_results

    lines = format_results(table).splitlines()
    assert [line.split()[-1] for line in lines if " unseen " in line] == ["-", "-"]
    assert any(line.startswith("hn ") and " train " in line and line.endswith("0.933") for line in lines)
    written = write_plot(table, tmp_path / "plot.png")  # no kaleido here: the HTML is written regardless
    assert tmp_path / "plot.html" in written
    html = (tmp_path / "plot.html").read_text()
    assert "plotly" in html and '"type":"log"' in html.replace(" ", "")
    (tmp_path / "hn__test.csv").unlink()
    with pytest.raises(WorkbenchError, match="missing"):
        table_from_index(tmp_path)


def _tiny_policies(folder: Path) -> tuple[Path, Path]:
    from workbench.models import build_actor_critic, build_policy, get_model_config, save_checkpoint

    torch.manual_seed(0)
    teacher = dataclasses.replace(get_model_config("workbench-ft", "modumorph"), d_model=16, head_dim=8,
                                  feedforward_dim=32, hn_hidden=16, num_layers=1)
    student = dataclasses.replace(get_model_config("workbench-ft", "hyperdistill"), hidden_dim=32, embed_dim=16,
                                  encoder_feedforward_dim=32)
    return (save_checkpoint(folder / "teacher.pt", build_actor_critic(teacher)),
            save_checkpoint(folder / "hn.pt", build_policy(student)))


def test_results_cli_evaluates_reuses_and_rebuilds(tmp_path, capsys) -> None:
    from workbench.analysis.flops import count_policy
    from workbench.cli import main
    from workbench.models import load_checkpoint

    teacher, student = _tiny_policies(tmp_path)
    out = tmp_path / "results.csv"
    args = ["results", "--teacher", str(teacher), "--students", f"hn={student}", "--robot-sets",
            "gen-test=generated-test", "gen-train=generated-train", "--max-robots", "2", "--episodes", "1",
            "--max-episode-steps", "10", "--out", str(out), "--plot", str(tmp_path / "results.html"),
            "--no-progress"]
    assert main(args) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == ["method", "robot_set", "mean_return", "std_error", "robots", "episodes", "params",
                                   "flops", "vs_teacher"]
    assert len(table) == 4 and set(table.robots) == {2} and (tmp_path / "results.html").is_file()
    hn = table[table.method == "hn"].iloc[0]
    count = count_policy(load_checkpoint(student).config)
    assert (hn.params, hn.flops) == (count.params, count.flops)
    teacher_rows = table[table.method == "teacher"]  # an untrained teacher: its return may be below zero
    assert ((teacher_rows.vs_teacher == 1.0) == (teacher_rows.mean_return > 0)).all()
    assert teacher_rows[teacher_rows.mean_return <= 0].vs_teacher.isna().all()
    capsys.readouterr()
    # A rerun reuses every evaluation; --from-csv rebuilds the identical table without simulating.
    assert main(args) == 0
    assert capsys.readouterr().err.count("reusing") == 4
    rebuilt = tmp_path / "rebuilt.csv"
    assert main(["results", "--from-csv", str(tmp_path / "results-evals"), "--out", str(rebuilt)]) == 0
    assert rebuilt.read_text() == out.read_text()
    # HN students run the deployment way (generated numpy MLPs) give the same figures.
    capsys.readouterr()
    assert main(args + ["--deploy-hn"]) == 0
    assert capsys.readouterr().err.count("reusing") == 2  # the teacher's two; the HN's are redone
    deployed = pd.read_csv(out)
    assert deployed.mean_return.to_numpy() == pytest.approx(table.mean_return.to_numpy(), rel=1e-3, abs=1e-2)
    index = json.loads((tmp_path / "results-evals" / "index.json").read_text())
    assert [e["deployed"] for e in index["entries"]] == [False, False, True, True]
    assert main(["results", "--students", "hn=x.pt", "--out", str(rebuilt)]) == 2
    assert main(["results", "--teacher", str(teacher), "--students", "hn", "--robot-sets", "a=generated-test",
                 "--out", str(rebuilt)]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err
