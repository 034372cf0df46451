"""Specialists carried between sessions: the compact form, its checksums, and a killed run rerun."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from workbench.cli import main
from workbench.envs import VectorUnimalEnv
from workbench.models import load_checkpoint, to_torch_obs
from workbench.morphology import load_robot
from workbench.training.compact import CHECKSUM_FILE, compact_run
from workbench.training.config import PPOConfig
from workbench.training.trainer import PPOTrainer

TINY = ["--set", "num_envs=4", "--set", "num_steps=128", "--set", "minibatch_size=128",
        "--set", 'model_overrides={"hidden_dim": 32}']


def _specialists_command(out: Path, *extra: str) -> list[str]:
    return ["train-specialists", "--robots", "generated-train-v2", "--max-robots", "2", "--total-steps", "2048",
            *TINY, *extra, "--out", str(out), "--no-progress"]


def _rows(run: Path) -> int:
    metrics = run / "metrics.csv"
    return max(metrics.read_text().count("\n") - 1, 0) if metrics.is_file() else 0


def test_compact_form_acts_exactly_as_the_full_policy(tmp_path) -> None:
    config = PPOConfig(policy="mlp", robots="gen2-train-001", num_envs=4, num_steps=128, minibatch_size=128,
                       epochs=1, total_steps=512, model_overrides={"hidden_dim": 32}, learner_bf16=False)
    run = tmp_path / "run"
    PPOTrainer(config, run, tensorboard=False).train(progress=False)
    full = load_checkpoint(run / "policy.pt")
    assert full.kind == "actor_critic"
    size_before = (run / "policy.pt").stat().st_size
    compact_run(run)
    compact = load_checkpoint(run / "policy.pt")
    assert compact.kind == "policy" and (run / "policy.pt").stat().st_size < size_before
    assert compact.extra == full.extra
    env = VectorUnimalEnv([load_robot("gen2-train-001")], 4)
    obs, _ = env.reset(seed=3)
    env.close()
    with torch.no_grad():
        np.testing.assert_array_equal(compact.policy(to_torch_obs(obs)).numpy(),
                                      full.policy.eval()(to_torch_obs(obs)).numpy())
    assert sorted(line.split()[1] for line in (run / CHECKSUM_FILE).read_text().splitlines()) == [
        "config.json", "metrics.csv", "policy.pt"]


def test_a_rerun_skips_verified_specialists_and_refuses_a_tampered_one(tmp_path, capsys) -> None:
    out = tmp_path / "specialists"
    assert main(_specialists_command(out)) == 0
    run = out / "gen2-train-000"
    assert (run / CHECKSUM_FILE).is_file() and load_checkpoint(run / "policy.pt").kind == "policy"
    for name in ("gen2-train-000", "gen2-train-001"):  # as in a fresh clone: no checkpoint.pt
        (out / name / "checkpoint.pt").unlink()
    before = (run / "metrics.csv").read_text()
    assert main(_specialists_command(out)) == 0
    assert (run / "metrics.csv").read_text() == before
    capsys.readouterr()
    (run / "metrics.csv").write_text(before + "0,0\n")
    assert main(_specialists_command(out)) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert len(err) == 1 and "metrics.csv differs from its checksum" in err[0] and "gen2-train-000" in err[0]


def test_a_killed_specialists_run_skips_the_finished_robot_and_reproduces_the_unfinished_one(tmp_path) -> None:
    reference = tmp_path / "reference"
    assert main(_specialists_command(reference, "--set", "checkpoint_interval_s=0")) == 0
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "workbench", *_specialists_command(killed, "--set", "checkpoint_interval_s=0")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    second = killed / "gen2-train-001"
    deadline = time.monotonic() + 300
    # Kill it once the second robot has checkpointed at least one of its four iterations, not all.
    while not ((second / "checkpoint.pt").is_file() and 2 <= _rows(second) < 4):
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    first_policy = (killed / "gen2-train-000" / "policy.pt").read_bytes()
    assert main(_specialists_command(killed, "--set", "checkpoint_interval_s=0")) == 0
    assert (killed / "gen2-train-000" / "policy.pt").read_bytes() == first_policy  # skipped
    for name in ("gen2-train-000", "gen2-train-001"):
        ours = load_checkpoint(killed / name / "policy.pt").model.state_dict()
        theirs = load_checkpoint(reference / name / "policy.pt").model.state_dict()
        assert ours.keys() == theirs.keys()
        for key in ours:
            torch.testing.assert_close(ours[key], theirs[key], rtol=0, atol=0)
    shutil.rmtree(reference)
