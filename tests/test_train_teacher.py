"""PPO teacher training: reproducibility, exact resume, checkpoints, CLI behaviour (tiny configs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from workbench.errors import WorkbenchError
from workbench.training.checkpoint import load_run_checkpoint
from workbench.training.config import PPOConfig, get_training_config
from workbench.training.trainer import PPOTrainer

REPO = Path(__file__).resolve().parents[1]

TINY_MODUMORPH = {"d_model": 16, "num_layers": 1, "num_heads": 1, "head_dim": 8, "feedforward_dim": 32, "hn_hidden": 16}
TINY_CRITIC = {"hidden_dim": 16}


def tiny_config(**changes) -> PPOConfig:
    base = PPOConfig(
        name="tiny",
        robots="generated-train",
        max_robots=1,
        num_envs=2,
        num_steps=32,
        minibatch_size=32,
        epochs=2,
        total_steps=2 * 32 * 3,
        model_overrides=TINY_MODUMORPH,
        critic_overrides=TINY_CRITIC,
        sampler_uniform_iterations=1,
        rollout_threads=1,
        learner_threads=1,
        sim_threads=1,
        checkpoint_interval_s=1e9,
        seed=3,
    )
    return base.replace(**changes)


def weights(trainer: PPOTrainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_tiny_run_is_reproducible(tmp_path):
    first = PPOTrainer(tiny_config(), tmp_path / "a", tensorboard=False)
    first.train()
    second = PPOTrainer(tiny_config(), tmp_path / "b", tensorboard=False)
    second.train()
    assert first.iteration == second.iteration == 3
    assert_same_weights(weights(first), weights(second))
    # and training moved the weights at all
    fresh = PPOTrainer(tiny_config(), None, tensorboard=False)
    assert any(not torch.equal(fresh.model.state_dict()[k], v) for k, v in weights(first).items())
    rows = (tmp_path / "a" / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 3 and rows[0].startswith("iteration,env_steps,wall_time_s")
    assert (tmp_path / "a" / "config.json").is_file() and (tmp_path / "a" / "policy.pt").is_file()


def test_interrupt_and_resume_equals_uninterrupted(tmp_path):
    config = tiny_config(total_steps=3 * 32 * 4, max_robots=2, num_envs=3, robot_sampling="balanced")
    straight = PPOTrainer(config, tmp_path / "straight", tensorboard=False)
    straight.train()

    interrupted = PPOTrainer(config, tmp_path / "resumed", tensorboard=False)
    interrupted.train(max_iterations=1)  # "killed" after its checkpoint at iteration 1
    del interrupted
    resumed = PPOTrainer(config, tmp_path / "resumed", resume=True, tensorboard=False)
    assert resumed.iteration == 1
    resumed.train(max_iterations=2)
    resumed = PPOTrainer(config, tmp_path / "resumed", resume=True, tensorboard=False)
    assert resumed.iteration == 3
    resumed.train()
    assert resumed.iteration == straight.iteration == 4
    assert_same_weights(weights(straight), weights(resumed))
    assert resumed.optimizer.state_dict()["state"].keys() == straight.optimizer.state_dict()["state"].keys()
    metrics = (tmp_path / "resumed" / "metrics.csv").read_text().strip().splitlines()
    assert [line.split(",")[0] for line in metrics[1:]] == ["1", "2", "3", "4"]


def test_a_checkpoint_with_one_adam_group_resumes_exactly(tmp_path):
    """Runs checkpointed before actor and critic had their own Adam groups (one group of all
    parameters) resume and end with the weights of an uninterrupted run."""
    from workbench.training.checkpoint import save_run_checkpoint

    config = tiny_config(total_steps=3 * 32 * 4, max_robots=2, num_envs=3)
    straight = PPOTrainer(config, tmp_path / "straight", tensorboard=False)
    straight.train()
    interrupted = PPOTrainer(config, tmp_path / "resumed", tensorboard=False)
    interrupted.train(max_iterations=2)
    path = tmp_path / "resumed" / "checkpoint.pt"
    state = load_run_checkpoint(path)
    groups = state["optimizer"]["param_groups"]
    merged = {key: value for key, value in groups[0].items() if key != "lr_scale"}
    merged["params"] = [index for group in groups for index in group["params"]]
    state["optimizer"]["param_groups"] = [merged]  # the earlier format
    save_run_checkpoint(path, state)
    resumed = PPOTrainer(config, tmp_path / "resumed", resume=True, tensorboard=False)
    assert [len(group["params"]) for group in resumed.optimizer.param_groups] == [len(g["params"]) for g in groups]
    resumed.train()
    assert resumed.iteration == straight.iteration == 4
    assert_same_weights(weights(straight), weights(resumed))


def test_overlapped_rollout_is_reproducible_and_resumes_exactly(tmp_path):
    config = tiny_config(total_steps=3 * 32 * 4, max_robots=2, num_envs=3, overlap_rollout=True)
    straight = PPOTrainer(config, tmp_path / "straight", tensorboard=False)
    straight.train()
    again = PPOTrainer(config, None, tensorboard=False)
    again.train()
    assert_same_weights(weights(straight), weights(again))

    interrupted = PPOTrainer(config, tmp_path / "resumed", tensorboard=False)
    interrupted.train(max_iterations=2)  # the checkpoint holds rollout 2, not yet learned from
    del interrupted
    resumed = PPOTrainer(config, tmp_path / "resumed", resume=True, tensorboard=False)
    assert resumed.iteration == 2 and resumed._pending_batch is not None
    resumed.train()
    assert resumed.iteration == straight.iteration == 4
    assert_same_weights(weights(straight), weights(resumed))
    # the acting copy follows the learner at every iteration boundary
    assert_same_weights(weights(resumed), {k: v for k, v in resumed.acting_model.state_dict().items()})

    rows = [line.split(",") for line in (tmp_path / "straight" / "metrics.csv").read_text().strip().splitlines()]
    epochs = [float(row[rows[0].index("epochs_run")]) for row in rows[1:]]
    assert epochs[0] == 0.0 and all(e > 0 for e in epochs[1:])  # nothing to learn from at first


def test_overlapped_rollout_learns_like_sequential_on_one_batch():
    """With the acting copy equal to the learner, the decoupled loss is ordinary PPO: one update on
    the same batch gives the same weights either way."""
    sequential = PPOTrainer(tiny_config(), None, tensorboard=False)
    overlapped = PPOTrainer(tiny_config(overlap_rollout=True), None, tensorboard=False)
    assert_same_weights(weights(sequential), weights(overlapped))
    batch = sequential.collect_rollout()
    overlapped.minibatch_generator.set_state(sequential.generator.get_state())
    sequential.update(batch)
    overlapped.update(batch)
    for key, value in weights(sequential).items():
        torch.testing.assert_close(weights(overlapped)[key], value, rtol=1e-4, atol=1e-6)


def test_actor_lr_scale_scales_the_actors_step_only():
    """One Adam step (one minibatch of the whole batch) from the same weights on the same batch: the
    actor moves by exactly ``actor_lr_scale`` times its full-rate step, the critic as at full rate."""
    steps = {}
    for scale in (1.0, 0.1):
        trainer = PPOTrainer(tiny_config(epochs=1, minibatch_size=64, lr_warmup_fraction=0.0, actor_lr_scale=scale),
                             None, tensorboard=False)
        before = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
        torch.manual_seed(0)
        trainer.update(trainer.collect_rollout())
        steps[scale] = {name: p.detach() - before[name] for name, p in trainer.model.named_parameters()}
        rates = [group["lr"] for group in trainer.optimizer.param_groups]
        assert rates == pytest.approx([trainer.config.lr * scale, trainer.config.lr])
    actor = [name for name in steps[1.0] if name.startswith("actor.")]
    critic = [name for name in steps[1.0] if name.startswith("critic.")]
    assert actor and critic and len(actor) + len(critic) == len(steps[1.0])
    assert any(steps[1.0][name].abs().max() > 0 for name in actor)
    # Tolerances: float32 rounding of w + step, with steps of 3e-6 and up.
    for name in actor:
        torch.testing.assert_close(steps[0.1][name], 0.1 * steps[1.0][name], rtol=1e-3, atol=1e-7)
    for name in critic:
        torch.testing.assert_close(steps[0.1][name], steps[1.0][name], rtol=1e-3, atol=1e-7)
    with pytest.raises(WorkbenchError, match="actor_lr_scale must be > 0"):
        tiny_config(actor_lr_scale=0.0).validate()


def test_overlap_needs_one_thread_count():
    with pytest.raises(WorkbenchError, match="overlap_rollout needs rollout_threads == learner_threads"):
        tiny_config(overlap_rollout=True, learner_threads=2).validate()


def test_hyperdistill_policy_trains_with_the_same_ppo(tmp_path):
    config = tiny_config(
        policy="hyperdistill",
        total_steps=2 * 32,
        model_overrides={"hidden_dim": 16, "embed_dim": 16, "encoder_feedforward_dim": 16},
    )
    trainer = PPOTrainer(config, tmp_path / "hn", tensorboard=False)
    before = weights(trainer)
    trainer.train()
    assert any(not torch.equal(before[k], v) for k, v in weights(trainer).items())
    from workbench.models import load_checkpoint

    assert load_checkpoint(tmp_path / "hn" / "policy.pt").policy.__class__.__name__ == "HyperDistillPolicy"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_checkpoint_is_a_one_line_error(tmp_path, damage):
    run = tmp_path / "run"
    PPOTrainer(tiny_config(total_steps=2 * 32), run, tensorboard=False).train()
    path = run / "checkpoint.pt"
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a checkpoint at all" * 10)
    else:
        path.write_bytes(b"")
    with pytest.raises(WorkbenchError) as info:
        load_run_checkpoint(path)
    message = str(info.value)
    assert "\n" not in message and "checkpoint" in message
    result = _cli("train-teacher", "--config", "workbench-ft", "--out", str(run), "--resume", "--no-progress")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "checkpoint" in lines[0]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


TINY_CLI = [
    "--config", "workbench-ft", "--max-robots", "1", "--seed", "5", "--no-progress",
    "--set", "num_envs=2", "--set", "num_steps=32", "--set", "minibatch_size=32", "--set", "epochs=1",
    "--set", "sim_threads=1", "--set", "learner_threads=1",
    "--set", "lr_warmup_fraction=0", "--set", "lr_final_fraction=1.0",  # constant lr: the total may grow on resume
    "--set", 'model_overrides={"d_model": 16, "num_layers": 1, "num_heads": 1, "head_dim": 8, "feedforward_dim": 32, "hn_hidden": 16}',
    "--set", 'critic_overrides={"hidden_dim": 16}',
]  # fmt: skip


def test_cli_resume_in_a_fresh_process_matches_and_refuses_overwrite(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    done = _cli("train-teacher", *TINY_CLI, "--total-steps", "192", "--out", str(straight))
    assert done.returncode == 0, done.stderr
    part = _cli("train-teacher", *TINY_CLI, "--total-steps", "64", "--out", str(resumed))
    assert part.returncode == 0, part.stderr
    rest = _cli("train-teacher", "--total-steps", "192", "--out", str(resumed), "--resume", "--no-progress")
    assert rest.returncode == 0, rest.stderr
    a = torch.load(straight / "policy.pt", weights_only=True)["state_dict"]
    b = torch.load(resumed / "policy.pt", weights_only=True)["state_dict"]
    assert_same_weights(a, b)

    again = _cli("train-teacher", *TINY_CLI, "--total-steps", "64", "--out", str(straight))
    assert again.returncode == 2
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and "--resume" in lines[0]

    conflict = _cli("train-teacher", "--out", str(resumed), "--resume", "--seed", "9", "--no-progress")
    assert conflict.returncode == 2 and "seed" in conflict.stderr


def test_named_configurations():
    paper = get_training_config("paper-ft")
    assert (paper.num_envs, paper.num_steps, paper.minibatch_size, paper.epochs, paper.lr) == (32, 2560, 5120, 8, 3e-4)
    assert paper.total_steps == 100_000_000 and paper.model == "paper-ft" and paper.policy == "modumorph"
    assert paper.target_kl == 0.05 and paper.adam_eps == 1e-5 and paper.max_grad_norm == 0.5
    assert get_training_config("workbench-ft").validate().batch_size % get_training_config("workbench-ft").minibatch_size == 0
    with pytest.raises(WorkbenchError):
        get_training_config("nope")
    with pytest.raises(WorkbenchError):
        get_training_config("workbench-ft", minibatch_size=10**9)
    assert PPOConfig.from_dict(paper.to_dict()) == paper
    # the CPU configuration overlaps rollout and update on one thread each; None restores the env default
    workbench = get_training_config("workbench-ft")
    assert workbench.overlap_rollout and workbench.sim_threads == workbench.learner_threads == workbench.rollout_threads == 1
    assert get_training_config("workbench-ft", sim_threads=None).sim_threads is None
    assert not get_training_config("workbench-specialist").overlap_rollout


def test_run_keeps_its_robots_and_refuses_changed_ones(tmp_path):
    run = tmp_path / "run"
    PPOTrainer(tiny_config(total_steps=2 * 32, max_robots=2), run, tensorboard=False).train()
    order = (run / "robots" / "order.json").read_text()
    assert "gen-train-000" in order and (run / "robots" / "gen-train-001.xml").is_file()
    resumed = PPOTrainer(tiny_config(total_steps=2 * 32 * 2, max_robots=2), run, resume=True, tensorboard=False)
    assert [r.name for r in resumed.robots] == ["gen-train-000", "gen-train-001"]
    # another robot under the same name: the checkpoint's state cannot belong to it
    from workbench.morphology import generate_robot

    other = generate_robot(12345)
    other.save(run / "robots" / "gen-train-001.xml")
    with pytest.raises(WorkbenchError, match="training robots"):
        PPOTrainer(tiny_config(max_robots=2), run, resume=True, tensorboard=False)
