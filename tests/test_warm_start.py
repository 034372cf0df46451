"""The warm start: per-robot specialists, the specialists as one teacher, their distillation into a
ModuMorph, and PPO continuing from it (critic warm-up first)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from workbench.cli import main
from workbench.distillation.specialist_teacher import SpecialistEnsemble, pool_normalizer_states
from workbench.envs import VectorUnimalEnv, layout
from workbench.errors import WorkbenchError
from workbench.models import load_checkpoint, to_torch_obs
from workbench.models.normalizer import ObservationNormalizer

TINY_MODUMORPH = '{"d_model": 16, "head_dim": 8, "feedforward_dim": 32, "hn_hidden": 16, "num_layers": 1}'


def test_pooled_statistics_equal_those_of_all_the_data() -> None:
    rng = np.random.default_rng(0)
    parts, states = [], []
    for scale, limbs in ((1.0, 4), (3.0, 12), (0.5, 7)):
        proprio = rng.normal(scale, scale, (50, layout.MAX_LIMBS, layout.PROPRIOCEPTIVE.size))
        mask = np.zeros((50, layout.MAX_LIMBS), np.float32)
        mask[:, :limbs] = 1.0
        obs = {layout.OBS_PROPRIOCEPTIVE: torch.as_tensor(proprio), layout.OBS_LIMB_MASK: torch.as_tensor(mask)}
        own = ObservationNormalizer(heightmap=False)
        own.update(obs)
        states.append({k: v.numpy() for k, v in own.state_dict().items()})
        parts.append(obs)
    together = ObservationNormalizer(heightmap=False)
    together.update({key: torch.cat([p[key] for p in parts]) for key in parts[0]})
    pooled = pool_normalizer_states(states)
    for key, value in together.state_dict().items():
        np.testing.assert_allclose(pooled[key], value.numpy(), rtol=1e-9, atol=1e-12, err_msg=key)


@pytest.fixture(scope="module")
def specialists(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("warm") / "specialists"
    code = main(["train-specialists", "--robots", "generated-train", "--max-robots", "2", "--total-steps", "1024",
                 "--set", "num_envs=4", "--set", "num_steps=128", "--set", "minibatch_size=128",
                 "--set", 'model_overrides={"hidden_dim": 32}', "--out", str(out)])
    assert code == 0
    return out


def test_specialists_are_single_robot_runs_and_a_rerun_skips_them(specialists, capsys) -> None:
    from workbench.training.specialists import specialist_dirs

    runs = specialist_dirs(specialists)
    assert [name for name, _ in runs] == ["gen-train-000", "gen-train-001"]
    before = {name: (run / "metrics.csv").read_text() for name, run in runs}
    for name, run in runs:
        assert len(list((run / "robots").glob("*.xml"))) == 1
        assert before[name].count("\n") == 1 + 2  # header + 2 iterations of 512 steps
    # As in a fresh clone of shipped specialists: one run's checkpoint.pt (left out of git) is missing.
    (runs[0][1] / "checkpoint.pt").rename(runs[0][1] / "checkpoint.pt.aside")
    policy = (runs[0][1] / "policy.pt").read_bytes()
    rerun = ["train-specialists", "--robots", "generated-train", "--max-robots", "2", "--total-steps", "1024",
             "--set", "num_envs=4", "--set", "num_steps=128", "--set", "minibatch_size=128",
             "--set", 'model_overrides={"hidden_dim": 32}', "--out", str(specialists)]
    assert main(rerun) == 0
    assert {name: (run / "metrics.csv").read_text() for name, run in runs} == before
    assert (runs[0][1] / "policy.pt").read_bytes() == policy and not (runs[0][1] / "checkpoint.pt").exists()
    # Training a finished run on needs its checkpoint: refused in one line where it is missing.
    assert main([*rerun[:6], "2048", *rerun[7:]]) == 2
    assert "training on needs its checkpoint.pt" in capsys.readouterr().err
    (runs[0][1] / "checkpoint.pt.aside").rename(runs[0][1] / "checkpoint.pt")
    # Other robots into the same folder: refused in one line.
    assert main(["train-specialists", "--robots", "generated-test", "--max-robots", "2", "--out",
                 str(specialists)]) == 2
    assert "holds specialists of other robots" in capsys.readouterr().err


def test_a_copied_specialists_folder_trains_on(specialists, tmp_path) -> None:
    import shutil

    copy = tmp_path / "copied"
    shutil.copytree(specialists, copy)
    assert main(["train-specialists", "--robots", "generated-train", "--max-robots", "2", "--total-steps", "1536",
                 "--set", "num_envs=4", "--set", "num_steps=128", "--set", "minibatch_size=128",
                 "--set", 'model_overrides={"hidden_dim": 32}', "--out", str(copy), "--no-progress"]) == 0
    for name in ("gen-train-000", "gen-train-001"):
        config = json.loads((copy / name / "config.json").read_text())
        assert config["robots"] == str(copy / "robots" / f"{name}.xml") and config["total_steps"] == 1536
        assert (copy / name / "metrics.csv").read_text().count("\n") == 1 + 3  # one iteration more


def test_the_ensemble_acts_with_each_robots_own_specialist(specialists) -> None:
    from workbench.morphology import fingerprint, load_robots

    ensemble = SpecialistEnsemble(specialists)
    robots = load_robots(str(specialists / "robots"))
    env = VectorUnimalEnv(robots, 4)
    obs, _ = env.reset(seed=1)
    env.close()
    robot_of_env = env.robot_index % 2
    ensemble.set_robots(obs[layout.OBS_CONTEXT][:2], obs[layout.OBS_LIMB_MASK][:2], [fingerprint(r) for r in robots])
    means = ensemble.action_mean(obs, robot_of_env)
    for index, robot in enumerate(robots):
        own = load_checkpoint(specialists / robot.name / "policy.pt").policy.eval()
        with torch.no_grad():
            expected = own(to_torch_obs(obs)).numpy()
        rows = robot_of_env == index
        np.testing.assert_allclose(means[rows], expected[rows], rtol=1e-6, atol=1e-6)
    with pytest.raises(WorkbenchError, match="no specialist"):
        ensemble.set_robots(obs[layout.OBS_CONTEXT][:1], obs[layout.OBS_LIMB_MASK][:1], ["not-a-robot"])


def test_warm_start_distils_the_specialists_and_ppo_continues_from_it(specialists, tmp_path) -> None:
    from workbench.distillation.dataset import DistillDataset

    out = tmp_path / "warm"
    assert main(["warm-start", "--specialists", str(specialists), "--dataset", str(tmp_path / "data"),
                 "--transitions-per-robot", "400", "--envs-per-robot", "4", "--config", "tiny", "--epochs", "6",
                 "--out", str(out), "--no-progress"]) == 0
    dataset = DistillDataset(tmp_path / "data")
    assert dataset.counts().tolist() == [400, 400]
    losses = [float(line.split(",")[3]) for line in (out / "metrics.csv").read_text().splitlines()[1:]]
    assert losses[-1] < 0.5 * losses[0]
    student = load_checkpoint(out / "student.pt").policy

    run = tmp_path / "ppo"
    assert main(["train-teacher", "--robots", str(specialists / "robots"), "--total-steps", "1536",
                 "--set", "num_envs=4", "--set", "num_steps=128", "--set", "minibatch_size=128",
                 "--set", "critic_warmup_iterations=1", "--set", "checkpoint_interval_s=0",
                 "--set", f"model_overrides={TINY_MODUMORPH}", "--init-policy", str(out / "student.pt"),
                 "--out", str(run), "--no-progress"]) == 0
    assert (run / "metrics.csv").read_text().count("\n") == 1 + 3
    trained = load_checkpoint(run / "policy.pt").policy
    changed = [not torch.equal(a, b) for a, b in zip(student.parameters(), trained.parameters())]
    # workbench-ft overlaps: iteration 2 updates on rollout 1 (critic only), iteration 3 on rollout 2
    assert any(changed)


@pytest.fixture(scope="module")
def small_warm_start(specialists, tmp_path_factory) -> Path:
    """A one-epoch warm start of the tiny specialists (its folder, with student.pt)."""
    root = tmp_path_factory.mktemp("small-warm")
    assert main(["warm-start", "--specialists", str(specialists), "--dataset", str(root / "data"),
                 "--transitions-per-robot", "200", "--envs-per-robot", "2", "--config", "tiny", "--epochs", "1",
                 "--out", str(root / "warm"), "--no-progress"]) == 0
    return root / "warm"


def test_critic_warmup_leaves_the_warm_started_actor_untouched(specialists, small_warm_start) -> None:
    from workbench.training.config import PPOConfig
    from workbench.training.trainer import PPOTrainer

    out = small_warm_start
    student = load_checkpoint(out / "student.pt").policy
    config = PPOConfig(robots=str(specialists / "robots"), num_envs=2, num_steps=64, minibatch_size=64,
                       total_steps=256, critic_warmup_iterations=1, init_policy=str(out / "student.pt"),
                       model_overrides=json.loads(TINY_MODUMORPH), sim_threads=1, learner_threads=1)
    trainer = PPOTrainer(config, None)
    assert all(torch.equal(a, b) for a, b in zip(student.state_dict().values(),
                                                   trainer.model.actor.state_dict().values()))
    critic_before = [p.detach().clone() for p in trainer.model.critic.parameters()]
    trainer.train(max_iterations=1)
    actor_weights = {k: v for k, v in trainer.model.actor.state_dict().items() if "normalizer" not in k}
    for key, value in actor_weights.items():
        assert torch.equal(value, student.state_dict()[key]), key
    assert any(not torch.equal(a, b) for a, b in zip(critic_before, trainer.model.critic.parameters()))


def test_a_warm_start_may_go_on_with_another_action_std(specialists, small_warm_start) -> None:
    from workbench.training.config import PPOConfig
    from workbench.training.trainer import PPOTrainer

    out = small_warm_start
    student = load_checkpoint(out / "student.pt").policy
    overrides = {**json.loads(TINY_MODUMORPH), "action_std": 0.2}
    config = PPOConfig(robots=str(specialists / "robots"), num_envs=2, num_steps=64, minibatch_size=64,
                       total_steps=128, init_policy=str(out / "student.pt"), model_overrides=overrides,
                       sim_threads=1, learner_threads=1)
    trainer = PPOTrainer(config, None)
    assert trainer.model.action_std == pytest.approx(0.2) != student.action_std
    assert all(torch.equal(a, b) for a, b in zip(student.state_dict().values(),
                                                   trainer.model.actor.state_dict().values()))


def test_a_mismatched_initial_policy_is_one_line(specialists, tmp_path, capsys) -> None:
    policy = specialists / "gen-train-000" / "policy.pt"  # an MLP, not a ModuMorph
    code = main(["train-teacher", "--robots", str(specialists / "robots"), "--total-steps", "512",
                 "--init-policy", str(policy), "--out", str(tmp_path / "run"), "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "initial policy" in err and "\n" not in err
