"""Graph hyper policies end to end: exact resume, numpy export, selection, one-line errors."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from workbench.deploy import load_mlp
from workbench.small_policies import envs
from workbench.small_policies.export import to_deploy
from workbench.small_policies.sac import SACConfig
from workbench.small_policies.sweep import SweepRow, predict_under_budget, smallest_within
from workbench.small_policies.train import TrainConfig, Trainer, load_policy

TINY = dict(env="Hopper-v5", actor="ghp", seed=3, checkpoint_every=1,
            sac=SACConfig(learning_starts=60, batch_size=16, resample_every=5))


def _train(out: Path, steps: int, resume: bool = False) -> Trainer:
    torch.set_num_threads(1)
    trainer = Trainer(TrainConfig(total_steps=steps, **TINY))
    trainer.run(out, resume=resume, progress=False)
    return trainer


def test_tiny_ghp_run_is_reproducible_and_resumes_exactly(tmp_path):
    a = _train(tmp_path / "a", 140)
    b = _train(tmp_path / "b", 140)
    _train(tmp_path / "c", 80)            # "killed" after its checkpoint at an episode end >= 80 steps
    c = _train(tmp_path / "c", 140, resume=True)
    for other in (b, c):
        assert other.step == a.step
        for (n, p), (_, q) in zip(a.actor.state_dict().items(), other.actor.state_dict().items()):
            assert torch.equal(p, q), n
    def rows(run: str) -> list[str]:  # all columns but the last (steps/s, wall-clock)
        return [line.rsplit(",", 1)[0] for line in (tmp_path / run / "metrics.csv").read_text().splitlines()]

    assert rows("a") == rows("b") == rows("c")


def test_numpy_export_equals_torch_actor(tmp_path):
    _train(tmp_path / "r", 70)
    actor, cfg = load_policy(tmp_path / "r")
    env = envs.make(cfg.env)
    lay = envs.deploy_layout(env)
    obs = np.random.default_rng(0).normal(size=(5, actor.obs_dim)).astype(np.float32)
    for arch in [(8, 4, 4, 4), (64,), (16, 512)]:
        to_deploy(actor, arch, lay, cfg.env).save(tmp_path / "a.npz")
        mlp = load_mlp(tmp_path / "a.npz")
        out = mlp.act(envs.pack_observation(obs, lay))[:, : actor.act_dim]
        with torch.no_grad():
            _, _, mean = actor(torch.from_numpy(obs), arch=arch, deterministic=True)
        np.testing.assert_allclose(out, mean.numpy(), rtol=1e-5, atol=1e-5)
        assert mlp.num_parameters < sum(p.numel() for p in actor.mlp_params(arch))  # log-std half dropped


def test_selection_picks_smallest_within_90_percent():
    rows = [SweepRow((4,), 50, 80, 10.0, 0.0), SweepRow((8,), 100, 160, 85.0, 0.0),
            SweepRow((16,), 200, 320, 91.0, 0.0), SweepRow((64,), 800, 1280, 100.0, 0.0)]
    assert smallest_within(rows).architecture == (16,)
    assert predict_under_budget(1000, 11, 3)  # some architecture fits


def test_bad_input_is_one_line_and_nonzero(tmp_path):
    cmds = [["train", "--env", "NoSuchEnv-v5", "--total-steps", "10", "--out", str(tmp_path / "x")],
            ["select", "--run", str(tmp_path / "x"), "--budget", "10"],
            ["export", "--run", str(tmp_path / "x"), "--architecture", "3,5", "--out", str(tmp_path / "a.npz")]]
    _train(tmp_path / "x", 61)
    for cmd in cmds:
        r = subprocess.run([sys.executable, "-m", "workbench", "ghp", *cmd], capture_output=True, text=True)
        assert r.returncode != 0
        assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("error:"), r.stderr


def test_sweep_of_the_plain_actor_is_its_one_architecture(tmp_path):
    """`ghp sweep` on an `--actor mlp` run: one row, the 256x256 actor's own size (it crashed before)."""
    torch.set_num_threads(1)
    Trainer(TrainConfig(total_steps=70, **{**TINY, "actor": "mlp"})).run(tmp_path / "m", progress=False)
    done = subprocess.run([sys.executable, "-m", "workbench", "ghp", "sweep", "--run", str(tmp_path / "m"),
                           "--episodes", "2"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = (tmp_path / "m" / "sweep.csv").read_text().splitlines()
    assert len(lines) == 2 and lines[1].startswith('"256,256",70406,'), lines
