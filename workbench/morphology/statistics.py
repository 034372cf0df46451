"""Summary statistics of a robot set: how big its robots are and how their joints are mixed.

Used to check that generated suites look like the published UNIMAL training set
(``workbench morph stats``) and, through ``UNIMAL_TRAIN_STATS``, to test that even where the
published robots are not on disk.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from workbench.morphology.model import Morphology

JOINT_TYPES = ("x", "y", "xy")  # a limb's hinges: about its x axis, its y axis, or both
# The published training set's figures (from `workbench morph stats ../shared/unimal/train --json`).
UNIMAL_TRAIN_STATS_FILE = Path(__file__).with_name("unimal_train_stats.json")


@dataclass(frozen=True)
class RobotSetStats:
    """Distribution of one robot set (limbs exclude the torso)."""

    robots: int
    mean_limbs: float
    mean_dof: float
    limb_histogram: dict[int, float]  # limb count -> fraction of robots
    joint_type_mix: dict[str, float]  # x / y / xy -> fraction of limbs
    mean_height: float  # torso height above the floor at rest (m)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["limb_histogram"] = {str(k): v for k, v in self.limb_histogram.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict) -> RobotSetStats:
        fields = dict(data)
        fields["limb_histogram"] = {int(k): float(v) for k, v in data["limb_histogram"].items()}
        return cls(**fields)


def limb_joint_type(limb) -> str:
    return ("x" if limb.joint_x is not None else "") + ("y" if limb.joint_y is not None else "")


def robot_set_stats(robots: list[Morphology]) -> RobotSetStats:
    limbs = np.array([robot.num_limbs for robot in robots])
    counts = Counter(limbs.tolist())
    kinds = Counter(limb_joint_type(limb) for robot in robots for limb in robot.limbs)
    total_limbs = sum(kinds.values())
    return RobotSetStats(
        robots=len(robots),
        mean_limbs=float(limbs.mean()),
        mean_dof=float(np.mean([robot.num_joints for robot in robots])),
        limb_histogram={k: counts[k] / len(robots) for k in sorted(counts)},
        joint_type_mix={kind: kinds[kind] / total_limbs for kind in JOINT_TYPES},
        mean_height=float(np.mean([robot.height for robot in robots])),
    )


def histogram_distance(a: dict[int, float], b: dict[int, float]) -> float:
    """Total-variation distance between two limb-count histograms (0 = equal, 1 = disjoint)."""
    keys = set(a) | set(b)
    return 0.5 * sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys)


def unimal_train_stats() -> RobotSetStats:
    """The committed statistics of the published UNIMAL training set (100 robots)."""
    return RobotSetStats.from_dict(json.loads(UNIMAL_TRAIN_STATS_FILE.read_text()))
