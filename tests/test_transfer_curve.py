"""``workbench transfer-curve`` on a tiny set: the recipe per prefix, the CSV, the figure, the resume."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from workbench.analysis.transfer import CSV_COLUMNS
from workbench.cli import main


@pytest.fixture(scope="module")
def specialists(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("transfer") / "specialists"
    assert main(["train-specialists", "--robots", "generated-train-v2", "--max-robots", "2", "--total-steps", "1024",
                 "--set", "num_envs=4", "--set", "num_steps=128", "--set", "minibatch_size=128",
                 "--set", 'model_overrides={"hidden_dim": 32}', "--out", str(out), "--no-progress"]) == 0
    return out


def _command(specialists: Path, root: Path, sizes: str) -> list[str]:
    return ["transfer-curve", "--specialists", str(specialists), "--sizes", sizes, "--unseen", "generated-test-v2",
            "--max-unseen-robots", "2", "--episodes", "1", "--dagger-rounds", "1", "--epochs-per-round", "1",
            "--transitions-per-robot", "200", "--envs-per-robot", "2", "--config", "tiny", "--set", "epochs=1",
            "--out", str(root / "work"), "--csv", str(root / "transfer.csv"), "--no-progress"]


def test_transfer_curve_writes_its_table_and_figure_and_skips_finished_sizes(specialists, tmp_path, capsys):
    assert main(_command(specialists, tmp_path, "1")) == 0
    table = pd.read_csv(tmp_path / "transfer.csv")
    assert tuple(table.columns) == CSV_COLUMNS
    assert table[["train_robots", "robot_set", "robots"]].values.tolist() == [[1, "train", 1],
                                                                             [1, "generated-test-v2", 2]]
    assert table.loc[0, "fraction_of_train"] == pytest.approx(1.0)
    # the 1-robot point was distilled from the first specialist only
    assert sorted(p.name for p in (tmp_path / "work" / "n-001" / "specialists").iterdir()) == ["gen2-train-000",
                                                                                               "robots"]
    first = (tmp_path / "transfer.csv").read_text()
    assert main(_command(specialists, tmp_path, "1,2")) == 0
    assert "1 robots: in" in capsys.readouterr().err  # skipped, not redone
    table = pd.read_csv(tmp_path / "transfer.csv")
    assert (tmp_path / "transfer.csv").read_text().startswith(first)
    assert table["train_robots"].tolist() == [1, 1, 2, 2] and table.loc[2, "robots"] == 2
    html = (tmp_path / "transfer.html").read_text()
    assert "plotly" in html.lower() and "generated-test-v2" in html


def test_transfer_curve_needs_enough_specialists(specialists, tmp_path, capsys):
    assert main(_command(specialists, tmp_path, "3")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "holds 2 specialists" in err[-1]
