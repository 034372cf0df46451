"""PD robots: the training robots plus seeded mutants of each (the paper's Appendix B.1).

For every training robot, mutants are drawn one after another, each with ``m`` mutation steps, ``m``
uniform in ``{1, ..., max_steps}``; a mutant whose structure (fingerprint) is already in the set (an
earlier mutant, or any training robot) is dropped and another one drawn, up to ``max_attempts`` draws
per training robot. Each training robot has its own random stream (seeded by ``(seed, index)``), so the
mutants of one robot do not depend on how many robots come before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class PDRobot:
    """One robot of the PD set."""

    morphology: object
    """The robot (a ``workbench.morphology.Morphology``)."""
    parent: str
    """Name of the training robot it comes from (its own name for a training robot)."""
    mutations: tuple[str, ...]
    """Mutation operators applied to the parent, in order (empty for a training robot)."""
    fingerprint: str
    """Structural fingerprint (``workbench.morphology.fingerprint``)."""

    @property
    def name(self) -> str:
        return str(self.morphology.name)

    @property
    def is_training_robot(self) -> bool:
        return not self.mutations


@dataclass(frozen=True)
class PDSetReport:
    """What building the set did: duplicates dropped and robots that got fewer mutants than asked."""

    duplicate_training_robots: tuple[str, ...]
    dropped_duplicate_mutants: int
    short_robots: tuple[str, ...]


def build_pd_robots(training: Sequence[object], mutants_per_robot: int, seed: int, max_steps: int = 3,
                    max_attempts: int | None = None) -> tuple[list[PDRobot], PDSetReport]:
    """The PD robot set: the (distinct) training robots first, then each one's mutants.

    Args:
        training: the teacher's training robots (Morphology objects).
        mutants_per_robot: distinct mutants wanted per training robot (the paper: 9).
        seed: seeds every draw.
        max_steps: mutation steps per mutant are uniform in ``{1, ..., max_steps}`` (the paper: 3).
        max_attempts: draws allowed per training robot (default ``4 * mutants_per_robot``).

    Returns:
        (robots, report). Mutants are named ``<parent>-pd<k>`` (k = 1, 2, ...).
    """
    from workbench.morphology import fingerprint, mutate

    if mutants_per_robot < 0:
        raise WorkbenchError(f"mutants per robot must be >= 0, got {mutants_per_robot}")
    if max_steps < 1:
        raise WorkbenchError(f"mutation steps must be >= 1, got {max_steps}")
    attempts = max_attempts if max_attempts is not None else 4 * mutants_per_robot
    seen: set[str] = set()
    names: set[str] = set()
    parents: list[PDRobot] = []
    duplicates: list[str] = []
    for morph in training:
        fp = fingerprint(morph)
        if fp in seen:
            duplicates.append(morph.name)
            continue
        if morph.name in names:
            raise WorkbenchError(f"two training robots are called {morph.name!r}")
        seen.add(fp)
        names.add(morph.name)
        parents.append(PDRobot(morph, morph.name, (), fp))

    robots = list(parents)
    dropped = 0
    short: list[str] = []
    for index, parent in enumerate(parents):
        rng = np.random.default_rng([seed, index])
        made = 0
        for _ in range(attempts):
            if made == mutants_per_robot:
                break
            steps = int(rng.integers(1, max_steps + 1))
            mutant = mutate(parent.morphology, rng, steps=steps, name=f"{parent.name}-pd{made + 1}")
            fp = fingerprint(mutant)
            if fp in seen:
                dropped += 1
                continue
            seen.add(fp)
            applied = tuple(mutant.mutations[len(parent.morphology.mutations):])
            robots.append(PDRobot(mutant, parent.name, applied, fp))
            made += 1
        if made < mutants_per_robot:
            short.append(parent.name)
    return robots, PDSetReport(tuple(duplicates), dropped, tuple(short))
