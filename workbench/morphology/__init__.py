"""UNIMAL morphologies: typed model, MJCF reading/writing, generator, mutations,
context features, fingerprints, and the built-in robot suites.

Public API (see ``.notes/INTERFACES.md``)::

    Morphology.from_xml(path) / .from_xml_string(text) / .to_xml() / .save(path)
    context_features(morph, position="absolute" | "relative") -> (12, 53) float32
    limb_mask(morph) -> (12,), action_mask(morph) -> (24,)
    fingerprint(morph) -> str
    load_robots(spec) -> list[Morphology]; load_robot(spec); builtin_robot(name)
    generate_robot(rng_or_seed) -> Morphology; mutate(morph, rng, steps=None)
"""

from workbench.morphology.context import action_mask, context_features, limb_mask, limb_table
from workbench.morphology.fingerprint import find_duplicates, fingerprint
from workbench.morphology.generator import generate_robot, generate_robots
from workbench.morphology.loading import iter_robot_entries, load_robot, load_robots
from workbench.morphology.model import (
    GEAR_CHOICES,
    JOINT_RANGES,
    Joint,
    Limb,
    Morphology,
    Torso,
)
from workbench.morphology.mutation import MUTATION_OPERATORS, mutate
from workbench.morphology.suites import SUITES, builtin_robot, builtin_robot_names, suite
from workbench.morphology.validation import design_problems, is_valid

__all__ = [
    "GEAR_CHOICES",
    "JOINT_RANGES",
    "MUTATION_OPERATORS",
    "SUITES",
    "Joint",
    "Limb",
    "Morphology",
    "Torso",
    "action_mask",
    "builtin_robot",
    "builtin_robot_names",
    "context_features",
    "design_problems",
    "find_duplicates",
    "fingerprint",
    "generate_robot",
    "generate_robots",
    "is_valid",
    "iter_robot_entries",
    "limb_mask",
    "limb_table",
    "load_robot",
    "load_robots",
    "mutate",
    "suite",
]
