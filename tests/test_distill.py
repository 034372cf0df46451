"""Distillation end to end on a tiny teacher: grouped forward passes, falling loss, generated MLP,
exact resume, CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from workbench.distillation import (CollectConfig, DistillDataset, Distiller, GroupedStudent, build_student,
                                    collect_dataset, get_distill_config)
from workbench.distillation.student import batch_to_torch
from workbench.envs import EnvConfig
from _tiny_checkpoints import random_teacher
from workbench.errors import WorkbenchError
from workbench.morphology import load_robots

SHORT = EnvConfig(max_episode_steps=20)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> DistillDataset:
    """2 training robots + 1 mutant of each, 750 transitions per robot (3,000)."""
    root = tmp_path_factory.mktemp("distill")
    robots = load_robots("generated-train")[:2]
    teacher = random_teacher(root / "teacher.pt", robots)
    config = CollectConfig(mutants_per_robot=1, transitions_per_robot=750, envs_per_robot=5, robots_per_shard=2,
                           max_episode_steps=60, seed=0)
    collect_dataset(teacher, robots, root / "ds", config)
    return DistillDataset(root / "ds")


def _batch(dataset: DistillDataset, robots: list[int], n: int):
    rows = [np.arange(n) + 3 * c for c in range(len(robots))]
    return batch_to_torch(dataset.batch(robots, rows))


@pytest.mark.parametrize("method", ["hyperdistill", "modumorph", "mlp"])
def test_grouped_forward_matches_the_policy(dataset, method) -> None:
    torch.manual_seed(1)
    policy = build_student(method, "workbench-ft", get_distill_config("tiny").model_overrides[method], "ft")
    with torch.no_grad():  # non-trivial generated weights (the heads start at zero weights)
        for parameter in policy.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    policy.eval()
    obs, _, chunk_robot = _batch(dataset, [2, 0, 2, 3], 6)  # robot 2 twice: generated once
    grouped = GroupedStudent(policy, obs)
    assert grouped.kind == {"hyperdistill": "hyperdistill", "modumorph": "modumorph-grouped", "mlp": "generic"}[method]
    with torch.no_grad():
        fast = grouped(obs, chunk_robot)
        reference = policy(obs)
    assert fast.shape == (24, 24)
    assert torch.allclose(fast, reference, atol=1e-5)
    assert float(reference.abs().max()) > 1e-3


def test_hypernetwork_generates_once_per_robot_of_a_minibatch(dataset, monkeypatch) -> None:
    policy = build_student("hyperdistill", "workbench-ft", get_distill_config("tiny").model_overrides["hyperdistill"],
                           "ft")
    sizes: list[int] = []
    original = policy.generate_layers

    def counting(context, limb_mask):
        sizes.append(context.shape[0])
        return original(context, limb_mask)

    monkeypatch.setattr(policy, "generate_layers", counting)
    obs, _, chunk_robot = _batch(dataset, [1, 1, 0, 1], 32)
    GroupedStudent(policy)(obs, chunk_robot)
    assert sizes == [2]  # 128 samples, 2 distinct robots


def test_distilled_hypernetwork_learns_and_its_mlp_runs(dataset, tmp_path) -> None:
    from workbench.analysis.evaluation import deployed_hypernetwork_adapter, evaluate_policy
    from workbench.deploy import load_mlp
    from workbench.models import load_policy

    config = get_distill_config("tiny", epochs=6)
    distiller = Distiller(config, dataset, "hyperdistill", tmp_path / "run")
    assert distiller.forward.kind == "hyperdistill" and distiller.policy.action_std == dataset.action_std
    # The student normalises with the teacher's statistics.
    assert np.array_equal(distiller.policy.normalizer.proprio_mean.numpy(), dataset.normalizer_state()["proprio_mean"])
    distiller.train()
    with open(tmp_path / "run" / "metrics.csv", newline="") as handle:
        losses = [float(row["loss"]) for row in csv.DictReader(handle)]
    assert len(losses) == 6
    assert losses[-1] < 0.5 * losses[0]
    # Frozen normalisation: unchanged by training.
    student = load_policy(tmp_path / "run" / "student.pt")
    assert np.array_equal(student.normalizer.proprio_mean.numpy(), dataset.normalizer_state()["proprio_mean"])

    # The generated MLP of one robot acts like the student on that robot's stored observations ...
    robot = 2
    morph = dataset.morphology(robot)
    mlp = student.generate(morph)
    path = mlp.save(tmp_path / "robot.npz")
    rows = dataset.rows(robot, np.arange(50))
    obs = {"proprioceptive": rows["proprioceptive"]}
    for key in ("context", "limb_mask", "action_mask"):
        obs[key] = np.repeat(dataset.static[key][robot][None], 50, axis=0)
    with torch.no_grad():
        expected = student({k: torch.from_numpy(v) for k, v in obs.items()}).numpy()
    assert np.allclose(load_mlp(path).act(obs), expected, atol=1e-4)
    # ... evaluates with the evaluation code, and refuses another robot.
    frame = evaluate_policy(str(path), [morph], episodes=1, env_config=SHORT)
    assert len(frame) == 1 and np.isfinite(frame["mean_return"]).all() and frame["mean_length"][0] == 20
    with pytest.raises(WorkbenchError, match="cannot run robot"):
        evaluate_policy(str(path), [dataset.morphology(0)], episodes=1, env_config=SHORT)
    # The deployment path (every robot's MLP generated, numpy) matches the torch student.
    robots = [dataset.morphology(i) for i in range(3)]
    deployed = evaluate_policy(deployed_hypernetwork_adapter(tmp_path / "run" / "student.pt"), robots, episodes=1,
                               env_config=SHORT)
    plain = evaluate_policy(tmp_path / "run" / "student.pt", robots, episodes=1, env_config=SHORT)
    assert np.allclose(deployed["mean_return"], plain["mean_return"], rtol=1e-3, atol=1e-2)


def _state(run_dir: Path) -> dict[str, torch.Tensor]:
    from workbench.models import load_policy

    return load_policy(run_dir / "student.pt").state_dict()


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_interrupted_distillation_resumes_exactly(dataset, tmp_path, schedule) -> None:
    config = get_distill_config("tiny", epochs=3, checkpoint_every=4, lr_schedule=schedule)
    Distiller(config, dataset, "hyperdistill", tmp_path / "straight").train()

    interrupted = Distiller(config, dataset, "hyperdistill", tmp_path / "resumed")
    steps_per_epoch = interrupted.sampler.batches_per_epoch
    kill_at = steps_per_epoch + 6  # mid-epoch, 2 steps after the last checkpoint (lost, redone)
    interrupted.train(max_steps=kill_at)
    assert interrupted.step == kill_at
    resumed = Distiller(config, dataset, "hyperdistill", tmp_path / "resumed", resume=True)
    assert resumed.step == 4 * (kill_at // 4) and resumed.epoch == 1
    resumed.train()
    a, b = _state(tmp_path / "straight"), _state(tmp_path / "resumed")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key

    def losses(run: str) -> list[str]:
        with open(tmp_path / run / "metrics.csv", newline="") as handle:
            return [row["loss"] for row in csv.DictReader(handle)]

    assert losses("straight") == losses("resumed") and len(losses("resumed")) == 3


def test_cosine_schedule_decays_the_learning_rate_to_zero(dataset, tmp_path, capsys) -> None:
    from workbench.cli import main

    config = get_distill_config("tiny", epochs=2, lr_schedule="cosine")
    distiller = Distiller(config, dataset, "mlp", tmp_path / "run")
    total = config.epochs * distiller.sampler.batches_per_epoch
    assert distiller.learning_rate() == pytest.approx(config.lr)
    distiller.step = total // 2
    assert distiller.learning_rate() == pytest.approx(config.lr / 2, rel=0.1)
    distiller.step = total - 1
    assert 0 < distiller.learning_rate() < 0.05 * config.lr
    distiller.step = 0
    distiller.train()
    with open(tmp_path / "run" / "metrics.csv", newline="") as handle:
        rates = [float(row["lr"]) for row in csv.DictReader(handle)]
    assert rates[0] < config.lr and rates[1] < rates[0] and rates[1] < 0.05 * config.lr
    # The schedule's length is part of the run's past: --resume cannot change the epochs.
    code = main(["distill", "--dataset", str(dataset.root), "--student", "mlp", "--out", str(tmp_path / "run"),
                 "--resume", "--epochs", "4", "--no-progress"])
    assert code == 2 and "cannot change epochs" in capsys.readouterr().err
    with pytest.raises(WorkbenchError, match="lr_schedule"):
        get_distill_config("tiny", lr_schedule="linear")


def test_distill_cli_with_evaluation_and_resume(dataset, tmp_path, capsys) -> None:
    from workbench.cli import main
    from workbench.models import TransformerPolicy, load_policy

    out = tmp_path / "run"
    args = ["distill", "--dataset", str(dataset.root), "--student", "modumorph-compressed", "--config", "tiny",
            "--out", str(out), "--epochs", "1", "--eval-every", "1", "--eval-robots", "generated-test",
            "--no-progress"]
    assert main(args) == 0
    assert isinstance(load_policy(out / "student.pt"), TransformerPolicy)
    with open(out / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and np.isfinite(float(rows[0]["return_train"]))
    assert np.isfinite(float(rows[0]["return_generated-test"]))
    capsys.readouterr()
    assert main(args) == 2 and "pass --resume" in capsys.readouterr().err
    assert main(args[:-1] + ["--resume", "--epochs", "2", "--no-progress"]) == 0
    with open(out / "metrics.csv", newline="") as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["1", "2"]
    assert main(args[:-1] + ["--resume", "--seed", "5"]) == 2
    assert "cannot change seed" in capsys.readouterr().err
    # Model overrides are keyed by student method; a flat dict is refused, not silently ignored.
    bad = ["distill", "--dataset", str(dataset.root), "--student", "mlp", "--config", "tiny", "--set",
           'model_overrides={"hidden_dim": 256}', "--out", str(tmp_path / "bad"), "--no-progress"]
    assert main(bad) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "model_overrides maps a student method" in err[0] and not (tmp_path / "bad").exists()


def test_evaluate_cli_takes_students_generated_mlps_and_the_deployment_path(dataset, tmp_path, capsys) -> None:
    from workbench.cli import main

    run = tmp_path / "run"
    Distiller(get_distill_config("tiny", epochs=1), dataset, "hyperdistill", run).train()
    robot_xml = dataset.root / dataset.robots[1]["xml"]
    other_xml = dataset.root / dataset.robots[0]["xml"]
    npz = tmp_path / "robot1.npz"
    assert main(["export-mlp", "--policy", str(run / "student.pt"), "--robot", str(robot_xml), "--out", str(npz)]) == 0
    results = {}
    for name, extra in (("torch", [str(run / "student.pt")]), ("mlp", [str(npz)]),
                        ("deployed", [str(run / "student.pt"), "--deploy"])):
        out = tmp_path / f"{name}.csv"
        code = main(["evaluate", "--policy", *extra, "--robots", str(robot_xml), "--episodes", "1",
                     "--out", str(out), "--no-progress"])
        assert code == 0
        results[name] = pd_read(out)
    assert np.allclose(results["mlp"], results["torch"], rtol=1e-3, atol=1e-2)
    assert np.allclose(results["deployed"], results["torch"], rtol=1e-3, atol=1e-2)
    capsys.readouterr()
    assert main(["evaluate", "--policy", str(npz), "--robots", str(other_xml), "--episodes", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot run robot" in err[0] and str(npz) in err[0]


def pd_read(path: Path) -> float:
    import pandas as pd

    return float(pd.read_csv(path)["mean_return"].iloc[0])
