"""Structural fingerprint of a robot, for finding duplicates and train/test overlaps.

The fingerprint hashes a canonical form of the body tree built from rounded
geometry (body position in the parent frame, capsule segment, radius),
densities, and joints (axis, range, gear, anchor). Names and limb ids do not
enter, and the children of a body are sorted by their own canonical form, so
sibling order does not matter either. The torso's initial height is a placement,
not structure, and is left out.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from workbench.morphology.model import Joint, Morphology

DECIMALS = 3


def _r(values) -> str:
    return ",".join(f"{round(float(v), DECIMALS) + 0.0:g}" for v in values)


def _joint(joint: Joint | None) -> str:
    if joint is None:
        return "-"
    return f"a{_r(joint.axis)}r{_r(joint.range)}g{_r([joint.gear])}p{_r(joint.pos)}"


def canonical_form(morph: Morphology) -> str:
    children = defaultdict(list)
    for limb in morph.limbs:
        children[limb.parent].append(limb)

    def node(limb) -> str:
        kids = sorted(node(c) for c in children.get(limb.id, ()))
        return (
            f"(p{_r(limb.pos)}f{_r(limb.fromto)}s{_r([limb.radius])}d{_r([limb.density])}"
            f"x{_joint(limb.joint_x)}y{_joint(limb.joint_y)}[{';'.join(kids)}])"
        )

    torso = morph.torso
    kids = sorted(node(c) for c in children.get(None, ()))
    return f"T(s{_r([torso.radius])}d{_r([torso.density])}[{';'.join(kids)}])"


def fingerprint(morph: Morphology) -> str:
    """16-hex-digit structural hash, independent of names, limb ids and sibling order."""
    return hashlib.sha1(canonical_form(morph).encode()).hexdigest()[:16]


def find_duplicates(named_robots) -> list[list[str]]:
    """Groups (of 2 or more names) of robots with equal fingerprints.

    ``named_robots``: iterable of ``(name, Morphology)``.
    """
    groups: dict[str, list[str]] = defaultdict(list)
    for name, morph in named_robots:
        groups[fingerprint(morph)].append(name)
    return [names for names in groups.values() if len(names) > 1]
