"""Built-in robot suites, generated from fixed seeds.

``generated-train`` and ``generated-test`` hold 100 robots each, named
``gen-train-000`` ... and ``gen-test-000`` ...; they are disjoint by structural
fingerprint (and free of duplicates within). A built-in robot name can be used
wherever a robot is asked for.
"""

from __future__ import annotations

import re
from functools import lru_cache

from workbench.errors import WorkbenchError
from workbench.morphology.model import Morphology

SUITE_SIZE = 100
SUITE_SEEDS = {"generated-train": 20240701, "generated-test": 20240702}
SUITE_PREFIX = {"generated-train": "gen-train", "generated-test": "gen-test"}
SUITES = tuple(SUITE_SEEDS)
_NAME_RE = re.compile(r"^gen-(train|test)-(\d{3})$")


@lru_cache(maxsize=None)
def _suite(name: str) -> tuple[Morphology, ...]:
    from workbench.morphology.fingerprint import fingerprint
    from workbench.morphology.generator import generate_robots

    exclude: set[str] = set()
    if name == "generated-test":  # disjoint from the training suite
        exclude = {fingerprint(m) for m in _suite("generated-train")}
    robots = generate_robots(SUITE_SIZE, SUITE_SEEDS[name], prefix=SUITE_PREFIX[name], exclude_fingerprints=exclude)
    return tuple(robots)


def suite(name: str) -> list[Morphology]:
    """The robots of a built-in suite (deterministic; built once per process)."""
    if name not in SUITE_SEEDS:
        raise WorkbenchError(f"unknown robot suite (known: {', '.join(SUITES)})", name)
    return list(_suite(name))


def is_builtin_robot_name(name: str) -> bool:
    match = _NAME_RE.match(name)
    return bool(match) and int(match.group(2)) < SUITE_SIZE


def builtin_robot(name: str) -> Morphology:
    """A robot of a built-in suite by name, e.g. ``gen-train-003``."""
    match = _NAME_RE.match(name)
    if not match or int(match.group(2)) >= SUITE_SIZE:
        raise WorkbenchError(
            f"unknown built-in robot (names: gen-train-000..gen-train-{SUITE_SIZE - 1:03d}, "
            f"gen-test-000..gen-test-{SUITE_SIZE - 1:03d})",
            name,
        )
    return _suite(f"generated-{match.group(1)}")[int(match.group(2))]


def builtin_robot_names() -> list[str]:
    return [f"{SUITE_PREFIX[s]}-{i:03d}" for s in SUITES for i in range(SUITE_SIZE)]
