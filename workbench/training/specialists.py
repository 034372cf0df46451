"""Per-robot specialists: one single-robot PPO run per training robot (the warm start's first half).

A universal policy learns slowly from PPO alone on this CPU; a small MLP trained by PPO on one robot
learns that robot fast. ``train_specialists`` trains one such run per robot, each an ordinary
``train-teacher`` run directory (``OUT/<robot>/``), so every run is resumable on its own and a rerun
of the same command skips finished robots and resumes unfinished ones. ``jobs`` runs go side by side
in separate processes (each single-threaded by the configuration). A run that finishes here is made
compact (``training.compact``: actor-only ``policy.pt`` and checksums), the form that is committed, and a
rerun skips a compact run only once its checksums match.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from workbench.errors import WorkbenchError
from workbench.training.compact import compact_run, is_compact, verify_compact_run
from workbench.training.config import PPOConfig


@dataclass(frozen=True)
class SpecialistResult:
    """One finished specialist run."""

    robot: str
    run_dir: Path
    env_steps: int
    recent_return: float
    wall_time_s: float


def specialist_dirs(out_dir: str | Path) -> list[tuple[str, Path]]:
    """(robot name, run directory) of every specialist of ``out_dir``, in robot order."""
    from workbench.training.trainer import load_robot_snapshot

    robots = load_robot_snapshot(Path(out_dir))
    if robots is None:
        raise WorkbenchError("not a specialists directory (no robots/order.json)", out_dir)
    return [(robot.name, Path(out_dir) / robot.name) for robot in robots]


def _snapshot(robots: list, out_dir: Path) -> None:
    """Save the robots into OUT/robots (the trainer's snapshot layout) once; later calls must name
    the same robots."""
    from workbench.training.trainer import load_robot_snapshot, robot_digest, snapshot_robots

    names = [robot.name for robot in robots]
    if len(set(names)) != len(names):
        raise WorkbenchError("robot names must be unique for per-robot specialists")
    saved = load_robot_snapshot(out_dir)
    if saved is None:
        snapshot_robots(robots, out_dir)
    elif [robot.name for robot in saved] != names:
        raise WorkbenchError("holds specialists of other robots; choose another --out", out_dir)
    else:
        for old, new in zip(saved, robots):
            if robot_digest(old) != robot_digest(new):
                raise WorkbenchError(f"robot {new.name} differs from the one its specialist was trained on", out_dir)


def _relocated(saved: PPOConfig, config: PPOConfig) -> PPOConfig:
    """``saved`` with the robot path of ``config`` where only the specialists folder moved.

    A specialist's robot is ``OUT/robots/<name>.xml``, so a copied or moved OUT names it by another
    path; :func:`_snapshot` has already checked that the robots' content is unchanged.
    """
    if saved.robots != config.robots and Path(saved.robots).name == Path(config.robots).name:
        return saved.replace(robots=config.robots)
    return saved


def _finished_run(run_dir: Path, config: PPOConfig) -> SpecialistResult | None:
    """The result of a run in ``run_dir`` that already reached its own ``total_steps`` and that ``config``
    asks for again (read from its config.json, metrics.csv and policy.pt), else None."""
    from workbench.training.config import resumed_config
    from workbench.training.metrics import last_metrics_row
    from workbench.training.trainer import CHECKPOINT_FILE, CONFIG_FILE, POLICY_FILE

    if not ((run_dir / POLICY_FILE).is_file() and (run_dir / CONFIG_FILE).is_file()):
        return None
    if is_compact(run_dir):
        verify_compact_run(run_dir)
    saved = _relocated(PPOConfig.load_json(run_dir / CONFIG_FILE), config)
    last = last_metrics_row(run_dir)
    if last is None or int(last["env_steps"]) < saved.total_steps:
        return None
    if resumed_config(saved, config.to_dict(), run_dir / CONFIG_FILE).total_steps != saved.total_steps:
        if not (run_dir / CHECKPOINT_FILE).is_file():
            raise WorkbenchError(f"finished at {saved.total_steps:,} steps; training on needs its "
                                 f"{CHECKPOINT_FILE}, which is not here", run_dir)
        return None  # asked to train on: resume
    return SpecialistResult(robot=run_dir.name, run_dir=run_dir, env_steps=int(last["env_steps"]),
                            recent_return=float(last["recent_return"]), wall_time_s=float(last["wall_time_s"]))


def _train_one(job: tuple[dict[str, Any], str]) -> SpecialistResult:
    """Train (or resume, or just report) the specialist of one robot. Runs in a worker process."""
    from workbench.training.config import resumed_config
    from workbench.training.trainer import CHECKPOINT_FILE, CONFIG_FILE, PPOTrainer

    config_dict, run_dir_text = job
    run_dir = Path(run_dir_text)
    config = PPOConfig.from_dict(config_dict)
    finished = _finished_run(run_dir, config)
    if finished is not None:  # also where checkpoint.pt was left out (a fresh clone of shipped runs)
        return finished
    resume = (run_dir / CHECKPOINT_FILE).is_file()
    if resume:
        saved = _relocated(PPOConfig.load_json(run_dir / CONFIG_FILE), config)
        config = resumed_config(saved, config.to_dict(), run_dir / CONFIG_FILE)
        if config != saved:
            config.save_json(run_dir / CONFIG_FILE)
    trainer = PPOTrainer(config, run_dir, resume=resume, tensorboard=False)
    trainer.train(progress=False)
    compact_run(run_dir)
    return SpecialistResult(
        robot=run_dir.name,
        run_dir=run_dir,
        env_steps=trainer.env_steps,
        recent_return=trainer.recent_return,
        wall_time_s=trainer.wall_time,
    )


def train_specialists(
    config: PPOConfig, out_dir: str | Path, *, jobs: int = 1
) -> Iterator[SpecialistResult]:
    """Train one ``config`` run per robot of ``config.robots`` (first ``max_robots``) into OUT/<robot>.

    Yields each robot's result as it finishes (in finishing order). Finished runs are reported
    without training; interrupted ones resume from their last checkpoint.
    """
    from workbench.training.trainer import ROBOTS_DIR, load_training_robots

    out_dir = Path(out_dir)
    robots = load_training_robots(config)
    _snapshot(robots, out_dir)
    work = []
    for robot in robots:
        single = config.replace(robots=str(out_dir / ROBOTS_DIR / f"{robot.name}.xml"), max_robots=None).validate()
        work.append((single.to_dict(), str(out_dir / robot.name)))
    if jobs <= 1:
        for job in work:
            yield _train_one(job)
        return
    # spawn: a fresh interpreter per worker (no forked MuJoCo / torch thread state).
    with multiprocessing.get_context("spawn").Pool(min(jobs, len(work))) as pool:
        yield from pool.imap_unordered(_train_one, work)
