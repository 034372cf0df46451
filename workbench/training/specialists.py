"""Per-robot specialists: one single-robot PPO run per training robot (the warm start's first half).

A universal policy learns slowly from PPO alone on this CPU; a small MLP trained by PPO on one robot
learns that robot fast. ``train_specialists`` trains one such run per robot, each an ordinary
``train-teacher`` run directory (``OUT/<robot>/``), so every run is resumable on its own and a rerun
of the same command skips finished robots and resumes unfinished ones. ``jobs`` runs go side by side
in separate processes (each single-threaded by the configuration).
"""

from __future__ import annotations

import json
import multiprocessing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from workbench.errors import WorkbenchError
from workbench.training.config import PPOConfig

ROBOTS_DIR = "robots"  # OUT/robots: the robots, one XML each, in order (the specialists' own snapshot)
ORDER_FILE = "order.json"


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
    out_dir = Path(out_dir)
    order = out_dir / ROBOTS_DIR / ORDER_FILE
    if not order.is_file():
        raise WorkbenchError("not a specialists directory (no robots/order.json)", out_dir)
    return [(name, out_dir / name) for name in json.loads(order.read_text())]


def _snapshot(robots: list, out_dir: Path) -> list[str]:
    """Save the robots into OUT/robots once; later calls must name the same robots."""
    from workbench.files import atomic_write_text
    from workbench.training.trainer import robot_digest

    folder = out_dir / ROBOTS_DIR
    names = [robot.name for robot in robots]
    if len(set(names)) != len(names):
        raise WorkbenchError("robot names must be unique for per-robot specialists")
    order = folder / ORDER_FILE
    if order.is_file():
        saved = json.loads(order.read_text())
        if saved != names:
            raise WorkbenchError("holds specialists of other robots; choose another --out", out_dir)
        from workbench.morphology import load_robots

        for name, robot in zip(names, robots):
            if robot_digest(load_robots(str(folder / f"{name}.xml"))[0]) != robot_digest(robot):
                raise WorkbenchError(f"robot {name} differs from the one its specialist was trained on", out_dir)
        return names
    folder.mkdir(parents=True, exist_ok=True)
    for robot in robots:
        robot.save(folder / f"{robot.name}.xml")
    atomic_write_text(order, json.dumps(names, indent=1) + "\n")
    return names


def _train_one(job: tuple[dict[str, Any], str, str]) -> SpecialistResult:
    """Train (or resume, or just report) the specialist of one robot. Runs in a worker process."""
    from workbench.training.trainer import CHECKPOINT_FILE, CONFIG_FILE, PPOTrainer

    config_dict, robot_xml, run_dir_text = job
    run_dir = Path(run_dir_text)
    config = PPOConfig.from_dict(config_dict)
    resume = (run_dir / CHECKPOINT_FILE).is_file()
    if resume:
        saved = PPOConfig.load_json(run_dir / CONFIG_FILE).to_dict()
        wanted = config.to_dict()
        differing = sorted(k for k in wanted if k not in ("total_steps", "checkpoint_interval_s", "device")
                           and saved.get(k) != wanted[k])
        if differing:
            raise WorkbenchError(f"specialist run has other settings ({', '.join(differing)})", run_dir)
        if saved["total_steps"] != config.total_steps:
            PPOConfig.from_dict({**saved, "total_steps": config.total_steps}).save_json(run_dir / CONFIG_FILE)
        config = PPOConfig.load_json(run_dir / CONFIG_FILE)
    trainer = PPOTrainer(config, run_dir, resume=resume, tensorboard=False)
    trainer.train(progress=False)
    return SpecialistResult(
        robot=Path(robot_xml).stem,
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
    from workbench.training.trainer import load_training_robots

    out_dir = Path(out_dir)
    robots = load_training_robots(config)
    names = _snapshot(robots, out_dir)
    work = []
    for name in names:
        robot_xml = out_dir / ROBOTS_DIR / f"{name}.xml"
        single = config.replace(robots=str(robot_xml), max_robots=None).validate()
        work.append((single.to_dict(), str(robot_xml), str(out_dir / name)))
    if jobs <= 1:
        for job in work:
            yield _train_one(job)
        return
    # spawn: a fresh interpreter per worker (no forked MuJoCo / torch thread state).
    with multiprocessing.get_context("spawn").Pool(min(jobs, len(work))) as pool:
        yield from pool.imap_unordered(_train_one, work)
