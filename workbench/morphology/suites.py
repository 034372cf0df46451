"""Built-in robot suites, generated from fixed seeds.

Each suite holds 100 robots and names the generator spec that made it, so its robots never
change when the generator moves on:

- ``generated-train`` / ``generated-test`` (generator v1, robots ``gen-train-000`` ...,
  ``gen-test-000`` ...): the robots every checkpoint of sessions 1-11 was trained on.
  They are smaller than UNIMAL's (mean 6.3 limbs against 8.1).
- ``generated-train-v2`` / ``generated-test-v2`` (generator v2, robots ``gen2-train-000`` ...,
  ``gen2-test-000`` ...): the published training set's limb-count histogram.

A test suite is disjoint from its training suite by structural fingerprint, and each is free of
duplicates within. A built-in robot name can be used wherever a robot is asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from workbench.errors import WorkbenchError
from workbench.morphology.fingerprint import fingerprint
from workbench.morphology.generator import GENERATOR_V1, GENERATOR_V2, GeneratorSpec, generate_robots
from workbench.morphology.model import Morphology

SUITE_SIZE = 100


@dataclass(frozen=True)
class SuiteSpec:
    """One built-in suite: its seed, robot-name prefix, generator and the suite it must avoid."""

    seed: int
    prefix: str
    generator: GeneratorSpec
    disjoint_from: str | None = None  # a training suite whose robots this one excludes


SUITE_SPECS: dict[str, SuiteSpec] = {
    "generated-train": SuiteSpec(20240701, "gen-train", GENERATOR_V1),
    "generated-test": SuiteSpec(20240702, "gen-test", GENERATOR_V1, disjoint_from="generated-train"),
    "generated-train-v2": SuiteSpec(20261204, "gen2-train", GENERATOR_V2),
    "generated-test-v2": SuiteSpec(20261205, "gen2-test", GENERATOR_V2, disjoint_from="generated-train-v2"),
}
SUITES = tuple(SUITE_SPECS)
_PREFIX_TO_SUITE = {spec.prefix: name for name, spec in SUITE_SPECS.items()}
_NAME_RE = re.compile(r"^(gen2?-(?:train|test))-(\d{3})$")


@lru_cache(maxsize=None)
def _suite(name: str) -> tuple[Morphology, ...]:
    spec = SUITE_SPECS[name]
    exclude = {fingerprint(m) for m in _suite(spec.disjoint_from)} if spec.disjoint_from else set()
    robots = generate_robots(SUITE_SIZE, spec.seed, prefix=spec.prefix, exclude_fingerprints=exclude,
                             spec=spec.generator)
    return tuple(robots)


def suite(name: str) -> list[Morphology]:
    """The robots of a built-in suite (deterministic; built once per process)."""
    if name not in SUITE_SPECS:
        raise WorkbenchError(f"unknown robot suite (known: {', '.join(SUITES)})", name)
    return list(_suite(name))


def _parse(name: str) -> tuple[str, int] | None:
    match = _NAME_RE.match(name)
    if not match or int(match.group(2)) >= SUITE_SIZE:
        return None
    return _PREFIX_TO_SUITE[match.group(1)], int(match.group(2))


def is_builtin_robot_name(name: str) -> bool:
    return _parse(name) is not None


def builtin_robot(name: str) -> Morphology:
    """A robot of a built-in suite by name, e.g. ``gen-train-003`` or ``gen2-test-042``."""
    parsed = _parse(name)
    if parsed is None:
        ranges = ", ".join(f"{s.prefix}-000..{s.prefix}-{SUITE_SIZE - 1:03d}" for s in SUITE_SPECS.values())
        raise WorkbenchError(f"unknown built-in robot (names: {ranges})", name)
    suite_name, index = parsed
    return _suite(suite_name)[index]


def builtin_robot_names() -> list[str]:
    return [f"{spec.prefix}-{i:03d}" for spec in SUITE_SPECS.values() for i in range(SUITE_SIZE)]
