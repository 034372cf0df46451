"""The app's non-Streamlit parts: checkpoint discovery, rendered episodes, policy loading."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.app.policies import GENERATED_MLP, RANDOM, load_for_robot, shipped_policies, single_step
from workbench.app.rollout import run_episode
from workbench.app.shipped import checkpoints_root, discover, read_table
from workbench.errors import WorkbenchError
from workbench.morphology import builtin_robot


def test_checkpoints_root_follows_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("WORKBENCH_CHECKPOINTS", str(tmp_path))
    assert checkpoints_root() == tmp_path
    monkeypatch.delenv("WORKBENCH_CHECKPOINTS")
    assert checkpoints_root() == Path(__file__).resolve().parents[1] / "checkpoints"


def test_discovery_of_a_partly_trained_root(tiny_checkpoints, tmp_path) -> None:
    full = discover(tiny_checkpoints)
    assert full.teacher == tiny_checkpoints / "teacher-ft" / "policy.pt" and not full.missing()
    assert [s.name for s in full.students] == ["hyperdistill", "mlp", "tf-compressed", "modumorph-compressed"]
    assert [s.name for s in full.hypernetworks] == ["hyperdistill"]
    # A folder without config.json (a DAgger output, an averaged student): the checkpoint tells.
    with_copy = tmp_path / "with-copy"
    shutil.copytree(tiny_checkpoints, with_copy)
    (with_copy / "distill-ft" / "hn-averaged").mkdir()
    shutil.copy(tiny_checkpoints / "distill-ft" / "hyperdistill" / "student.pt", with_copy / "distill-ft" / "hn-averaged")
    (with_copy / "distill-ft" / "mlp" / "config.json").unlink()
    (with_copy / "distill-ft" / "broken").mkdir()
    (with_copy / "distill-ft" / "broken" / "student.pt").write_bytes(b"not a checkpoint")
    assert full.wide_teacher is None and "teacher (wide)" not in [p.label for p in shipped_policies(full)]
    (with_copy / "teacher-ft-wide").mkdir()
    shutil.copy(tiny_checkpoints / "teacher-ft" / "policy.pt", with_copy / "teacher-ft-wide")
    found = discover(with_copy)
    assert found.wide_teacher == with_copy / "teacher-ft-wide" / "policy.pt"
    assert [p.label for p in shipped_policies(found)][:2] == ["teacher", "teacher (wide)"]
    assert {s.name: s.method for s in found.students}["broken"] == "broken"  # unreadable: the folder name
    assert [s.name for s in found.hypernetworks] == ["hyperdistill", "hn-averaged"]
    assert {s.name: s.method for s in found.students}["mlp"] == "mlp"
    # The best HN by the results table's training-robot return (the copy is not in the table: the first).
    assert full.best_hypernetwork().name == "hyperdistill" and found.best_hypernetwork().name == "hyperdistill"
    table = pd.read_csv(with_copy / "results-ft.csv")
    extra = table[table["method"] == "hyperdistill"].assign(method="hn-averaged")
    extra["mean_return"] = extra["mean_return"] + 1.0
    pd.concat([table, extra]).to_csv(with_copy / "results-ft.csv", index=False)
    assert discover(with_copy).best_hypernetwork().name == "hn-averaged"
    assert discover(with_copy).best_hypernetwork("no-such-set").name == "hyperdistill"
    # A teacher still training (metrics, no policy.pt) and a student folder without a config.json.
    root = tmp_path / "checkpoints"
    (root / "teacher-ft").mkdir(parents=True)
    shutil.copy(tiny_checkpoints / "teacher-ft" / "metrics.csv", root / "teacher-ft")
    (root / "distill-ft" / "my-hn").mkdir(parents=True)
    shutil.copy(tiny_checkpoints / "distill-ft" / "hyperdistill" / "metrics.csv", root / "distill-ft" / "my-hn")
    (root / "distill-ft" / "empty").mkdir()
    partial = discover(root)
    assert partial.teacher is None and partial.teacher_metrics is not None and partial.results is None
    assert [(s.name, s.method, s.checkpoint) for s in partial.students] == [("my-hn", "my-hn", None)]
    assert len(partial.missing()) == 3
    assert [source.kind for source in shipped_policies(partial)] == [RANDOM]


def test_teacher_dagger_rounds_are_found_in_order_and_drawn_as_one_curve(tmp_path) -> None:
    import pandas as pd

    from workbench.app.figures import continued_epochs

    dagger = tmp_path / "warm-start-dagger-ft"
    for k in (10, 2, 1):  # numeric order, not the directory listing's
        (dagger / f"round-{k}").mkdir(parents=True)
        (dagger / f"round-{k}" / "metrics.csv").write_text("epoch,loss\n1,0.3\n2,0.2\n")
    (dagger / "round-x").mkdir()  # not a round: ignored
    (dagger / "round-x" / "metrics.csv").write_text("epoch,loss\n1,0.3\n")
    found = discover(tmp_path).teacher_dagger_rounds
    assert [number for number, _ in found] == [1, 2, 10]
    assert found[0][1] == dagger / "round-1" / "metrics.csv"
    assert discover(tmp_path / "nothing").teacher_dagger_rounds == ()
    stages = {"warm start": pd.DataFrame({"epoch": [1, 2, 3], "loss": [0.5, 0.4, 0.3]}),
              **{f"round {k}": pd.read_csv(path) for k, path in found}}
    joined = continued_epochs(stages)
    assert [list(m["epoch"]) for m in joined.values()] == [[1, 2, 3], [4, 5], [6, 7], [8, 9]]
    assert list(stages["round 1"]["epoch"]) == [1, 2]  # the inputs are left alone


def test_growing_metrics_file_is_readable(tiny_checkpoints, tmp_path) -> None:
    text = (tiny_checkpoints / "teacher-ft" / "metrics.csv").read_text()
    growing = tmp_path / "metrics.csv"
    growing.write_text(text + text.splitlines()[-1][:15])  # a row half written
    frame = read_table(growing)
    assert len(frame) == 4 and list(frame["iteration"][:3]) == [1, 2, 3]
    (tmp_path / "bad.csv").write_bytes(b"")
    with pytest.raises(WorkbenchError, match="bad.csv: not a readable CSV"):
        read_table(tmp_path / "bad.csv")


def test_rendered_episode_records_what_happened(tiny_checkpoints) -> None:
    robot = builtin_robot("gen-train-001")
    sources = {source.label: source for source in shipped_policies(discover(tiny_checkpoints))}
    policy = load_for_robot(sources["hyperdistill (generated MLP)"], robot)
    assert policy.source.kind == GENERATED_MLP and policy.generated.robot == "gen-train-001"
    seen: list[int] = []
    rollout = run_episode(robot, single_step(policy.adapter), max_steps=25, width=96, height=64, on_step=seen.append)
    assert seen == list(range(1, rollout.steps + 1)) and 1 <= rollout.steps <= 25
    if rollout.steps < 25:  # stopped early: the episode ended, and says why
        assert rollout.end in ("fell", "left the strip", "physics unstable", "terminated")
    if rollout.end == "step limit (25)":
        assert rollout.steps == 25
    # The reward is the torso's forward velocity: it integrates to the recorded positions.
    assert np.allclose(np.diff(rollout.x_positions), rollout.rewards[1:] * rollout.dt, atol=1e-6)
    assert rollout.video[4:8] == b"ftyp"  # an MP4 container
    # Same seed, same deterministic policy: the same episode.
    again = run_episode(robot, single_step(policy.adapter), max_steps=25, width=96, height=64)
    assert np.array_equal(again.rewards, rollout.rewards)


def test_generated_mlp_refuses_a_non_hypernetwork(tiny_checkpoints) -> None:
    from workbench.app.policies import PolicySource

    teacher_as_hn = PolicySource("teacher", GENERATED_MLP, tiny_checkpoints / "teacher-ft" / "policy.pt")
    with pytest.raises(WorkbenchError, match="does not generate MLPs"):
        load_for_robot(teacher_as_hn, builtin_robot("gen-train-000"))
