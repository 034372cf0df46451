"""Evaluation: the per-robot table, the mean over robots, the CSV, the adapters (random, checkpoint, callable)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.analysis.evaluation import (
    RESULT_COLUMNS,
    CallableAdapter,
    evaluate_policy,
    format_table,
    make_policy_adapter,
    write_results_csv,
)
from workbench.envs import EnvConfig
from workbench.errors import WorkbenchError

REPO = Path(__file__).resolve().parents[1]
SHORT = EnvConfig(max_episode_steps=40)


@pytest.fixture(scope="module")
def robot_dir(tmp_path_factory) -> Path:
    from workbench.morphology import generate_robot

    folder = tmp_path_factory.mktemp("robots")
    for seed in (1, 2):
        generate_robot(seed).save(folder / f"robot{seed}.xml")
    return folder


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    from workbench.models import build_actor_critic, get_model_config, save_checkpoint
    import dataclasses
    import torch

    torch.manual_seed(0)
    actor = dataclasses.replace(
        get_model_config("workbench-ft", "modumorph"), d_model=16, num_layers=1, num_heads=1, head_dim=8,
        feedforward_dim=32, hn_hidden=16,
    )
    critic = dataclasses.replace(get_model_config("workbench-ft", "critic"), hidden_dim=16)
    path = tmp_path_factory.mktemp("ckpt") / "policy.pt"
    save_checkpoint(path, build_actor_critic(actor, critic))
    return path


def test_random_policy_table_and_protocol(robot_dir):
    frame = evaluate_policy("random", robot_dir, episodes=3, seed=1, env_config=SHORT)
    assert list(frame.columns) == list(RESULT_COLUMNS)
    assert sorted(frame["robot"]) == ["robot1", "robot2"]
    assert (frame["episodes"] == 3).all()
    assert (frame["mean_length"] <= 40).all() and (frame["mean_length"] >= 1).all()
    assert frame.attrs["mean_return"] == pytest.approx(frame["mean_return"].mean())
    again = evaluate_policy("random", robot_dir, episodes=3, seed=1, env_config=SHORT)
    pd.testing.assert_frame_equal(frame, again)  # seeded
    table = format_table(frame)
    assert "robot1" in table and table.strip().splitlines()[-1].startswith("mean over 2 robots:")


def test_checkpoint_and_callable_policies_are_deterministic(robot_dir, tiny_checkpoint, tmp_path):
    a = evaluate_policy(tiny_checkpoint, robot_dir, episodes=2, env_config=SHORT)
    b = evaluate_policy(tiny_checkpoint, robot_dir, episodes=2, env_config=SHORT)
    pd.testing.assert_frame_equal(a, b)
    c = evaluate_policy(tiny_checkpoint, robot_dir, episodes=2, env_config=SHORT, max_envs=2)  # one robot per env
    assert list(c["robot"]) == list(a["robot"]) and (c["episodes"] == 2).all()
    zero = evaluate_policy(CallableAdapter(lambda obs: np.zeros(obs["action_mask"].shape)), robot_dir, episodes=2,
                           env_config=SHORT)
    assert np.isfinite(zero["mean_return"]).all()
    out = write_results_csv(a, tmp_path / "sub" / "eval.csv")
    read = pd.read_csv(out)
    assert list(read.columns) == list(RESULT_COLUMNS) and len(read) == 2


def test_adapter_errors():
    with pytest.raises(WorkbenchError):
        make_policy_adapter("/no/such/policy.pt")
    with pytest.raises(WorkbenchError):
        make_policy_adapter(42)


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("policy", ["random", "checkpoint"])
def test_cli_evaluate_prints_table_and_writes_csv(robot_dir, tiny_checkpoint, tmp_path, policy):
    out = tmp_path / "eval.csv"
    spec = "random" if policy == "random" else str(tiny_checkpoint)
    result = _cli("evaluate", "--policy", spec, "--robots", str(robot_dir), "--episodes", "2", "--out", str(out),
                  "--no-progress")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["robot", "mean", "return"]
    assert lines[-1].startswith("mean over 2 robots:")
    frame = pd.read_csv(out)
    assert list(frame.columns) == list(RESULT_COLUMNS) and len(frame) == 2
    assert float(lines[-1].split(":")[1]) == pytest.approx(frame["mean_return"].mean(), abs=0.06)


def test_cli_evaluate_bad_policy_is_one_line(robot_dir, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    result = _cli("evaluate", "--policy", str(bad), "--robots", str(robot_dir), "--episodes", "1", "--no-progress")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error:")
