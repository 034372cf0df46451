"""A tiny but real checkpoints root for the app's tests, laid out as the shipped ``checkpoints/``.

Everything is made by the library itself: a ModuMorph teacher trained for three PPO iterations, a small
PD dataset collected with it, the four students distilled for two epochs each, a per-robot evaluation
of the teacher and a results table. Sizes are tiny so that the whole root is built in well under a
minute; the app only reads the files' formats, never their quality.
"""

from __future__ import annotations

from pathlib import Path

import pytest

STUDENTS = ("hyperdistill", "mlp", "tf-compressed", "modumorph-compressed")
EPISODE_STEPS = 20  # evaluation episodes in the fixture (full episodes are 1000 steps)

TINY_TEACHER = {"d_model": 16, "num_layers": 1, "num_heads": 1, "head_dim": 8, "feedforward_dim": 32, "hn_hidden": 16}
TINY_CRITIC = {"hidden_dim": 16}


def train_tiny_teacher(run_dir: Path) -> Path:
    """Three PPO iterations of a tiny ModuMorph teacher on two training robots; returns policy.pt."""
    from workbench.training.config import PPOConfig
    from workbench.training.trainer import PPOTrainer

    config = PPOConfig(name="tiny-app", robots="generated-train", max_robots=2, num_envs=2, num_steps=32,
                       minibatch_size=32, epochs=1, total_steps=3 * 2 * 32, model_overrides=TINY_TEACHER,
                       critic_overrides=TINY_CRITIC, sampler_uniform_iterations=1, rollout_threads=1,
                       learner_threads=1, sim_threads=1, checkpoint_interval_s=1e9, seed=0)
    PPOTrainer(config, run_dir, tensorboard=False).train()
    return run_dir / "policy.pt"


def distill_tiny_students(teacher: Path, work_dir: Path, out_dir: Path) -> dict[str, Path]:
    """Collect a tiny dataset with ``teacher`` and distil every student for two epochs."""
    from workbench.distillation import CollectConfig, DistillDataset, Distiller, collect_dataset, get_distill_config
    from workbench.morphology import load_robots

    robots = load_robots("generated-train")[:2]
    collect = CollectConfig(mutants_per_robot=1, transitions_per_robot=128, envs_per_robot=2, robots_per_shard=4,
                            max_episode_steps=40, seed=0)
    collect_dataset(teacher, robots, work_dir / "dataset", collect)
    dataset = DistillDataset(work_dir / "dataset")
    config = get_distill_config("tiny", epochs=2, batch_size=64, robots_per_batch=2, eval_every=1,
                                eval_max_robots=1, eval_episodes=1, eval_max_episode_steps=EPISODE_STEPS)
    students = {}
    for method in STUDENTS:
        Distiller(config, dataset, method, out_dir / method).train()
        students[method] = out_dir / method / "student.pt"
    return students


def build_tiny_checkpoints(root: Path, work_dir: Path) -> Path:
    """Fill ``root`` like the shipped ``checkpoints/`` (teacher-ft, distill-ft, results-ft.csv)."""
    from workbench.analysis.evaluation import evaluate_policy, write_results_csv
    from workbench.analysis.results import evaluate_policies, table_from_index, write_table
    from workbench.envs import EnvConfig

    teacher = train_tiny_teacher(root / "teacher-ft")
    frame = evaluate_policy(teacher, "generated-train", episodes=1, env_config=EnvConfig(max_episode_steps=EPISODE_STEPS),
                            max_envs=4)
    write_results_csv(frame.head(3), root / "teacher-ft" / "eval-train.csv")
    students = distill_tiny_students(teacher, work_dir, root / "distill-ft")
    policies = {"teacher": teacher, **{name: path for name, path in students.items()}}
    evals = work_dir / "results-evals"
    evaluate_policies(policies, {"train": "generated-train", "test": "generated-test"}, evals, episodes=1,
                      max_episode_steps=EPISODE_STEPS, max_robots=2, deploy_hypernetworks=True)
    write_table(table_from_index(evals), root / "results-ft.csv")
    return root


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoints root with a real tiny teacher, four real tiny students and their results."""
    base = tmp_path_factory.mktemp("app-checkpoints")
    return build_tiny_checkpoints(base / "checkpoints", base / "work")


@pytest.fixture(scope="session")
def empty_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoints root with nothing in it (a fresh clone before training)."""
    return tmp_path_factory.mktemp("no-checkpoints")
