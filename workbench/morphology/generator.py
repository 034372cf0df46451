"""Random robots in the UNIMAL design space, reproducible from a seed.

A robot grows from a torso by repeated growth steps. Each step picks an
attachment site (the torso centre, or the middle or bottom of a limb) and a
direction (theta in 0..315 step 45, phi in {90, 135, 180}), a capsule length
``0.05 + h`` (h in {0.2, 0.3, 0.4}), one or two hinge joints with ranges from
the 13 published pairs and gears in {150, 200, 250, 300}. Bilateral symmetry:
a limb grown off the xz-plane from a site on it comes with its mirror image
(theta -> -theta) as a symmetric pair (the two are excluded from colliding with
each other, as in UNIMAL); a limb grown from a site off the plane is grown on
the mirrored site too. A step is rejected when the robot would exceed 12 bodies
or 16 motors or when the new capsules would touch another body at rest. The
finished robot is checked with MuJoCo (no contacts at rest) and the torso is
placed so that its lowest point is 0.2 above the floor; robots whose torso would
then stand higher than MAX_TORSO_HEIGHT are redrawn.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from workbench.morphology.encoding import MAX_LIMBS, MAX_MOTORS
from workbench.morphology.geometry import (
    depth_first,
    direction,
    limb_sites,
    make_limb,
    self_contacts,
)
from workbench.morphology.model import (
    DENSITY_CHOICES,
    FLOOR_CLEARANCE,
    GEAR_CHOICES,
    JOINT_RANGES,
    LIMB_H_CHOICES,
    PHI_CHOICES,
    THETA_CHOICES,
    Limb,
    Morphology,
    Torso,
)



@dataclass(frozen=True)
class GeneratorSpec:
    """How many limbs a generated robot aims for, and whether it must reach that count.

    Versions are kept side by side because shipped checkpoints were trained on robots of
    the first one: a suite names its spec, so its robots never change.
    """

    target_limbs: tuple[int, ...]  # limb counts (torso excluded) a robot may aim for
    target_weights: tuple[float, ...]  # their probabilities
    exact_count: bool  # redraw a robot whose growth stopped short of its target
    max_growth_failures: int  # failed growth steps before a robot stops growing


# v1: a spread with tails on both sides. Growth often stops short of the target, so its
# robots are smaller than UNIMAL's (mean 6.3 limbs, 8.3 DoF against 8.1 and 10.7).
GENERATOR_V1 = GeneratorSpec(
    target_limbs=(3, 4, 5, 6, 7, 8, 9, 10, 11),
    target_weights=(0.05, 0.08, 0.10, 0.12, 0.15, 0.16, 0.14, 0.11, 0.09),
    exact_count=False,
    max_growth_failures=5,
)
# v2: the limb-count histogram of the 100 published UNIMAL training robots, reached exactly
# (`workbench morph stats ../shared/unimal/train`; committed in unimal_train_stats.json).
GENERATOR_V2 = GeneratorSpec(
    target_limbs=(4, 5, 6, 7, 8, 9, 10),
    target_weights=(0.01, 0.05, 0.08, 0.16, 0.28, 0.26, 0.16),
    exact_count=True,
    max_growth_failures=20,
)
# Joint kinds per limb: x only, y only, both (published frequencies ~0.30/0.38/0.32).
JOINT_KINDS = ("x", "y", "xy")
JOINT_KIND_WEIGHTS = (0.30, 0.38, 0.32)
CONTACT_MARGIN = 0.005  # conservative clearance for the analytic contact test
MAX_FOLD_BACK = -0.75  # min cos(angle) between a child's and its parent's direction
# Published UNIMAL training robots stand 0.30-1.04 m tall (torso above the floor), median
# 0.65. Uniform random growth makes many taller stilt-like robots that topple within a
# second even under a good policy, so generated torsos stay at or below 0.9 m
# (zero-action survival then comes close to the published robots').
MAX_TORSO_HEIGHT = 0.9


def _as_rng(rng_or_seed) -> np.random.Generator:
    if isinstance(rng_or_seed, np.random.Generator):
        return rng_or_seed
    return np.random.default_rng(rng_or_seed)


def mirror_theta(theta: int) -> int:
    return (360 - theta) % 360


def sample_direction(rng: np.random.Generator) -> tuple[int, int]:
    phi = int(PHI_CHOICES[rng.integers(len(PHI_CHOICES))])
    theta = int(THETA_CHOICES[rng.integers(len(THETA_CHOICES))])
    if phi == 180:
        theta = 0
    return theta, phi


def sample_joint(rng: np.random.Generator) -> tuple[tuple[float, float], float]:
    return JOINT_RANGES[rng.integers(len(JOINT_RANGES))], GEAR_CHOICES[rng.integers(len(GEAR_CHOICES))]


def sample_joints(rng: np.random.Generator):
    kind = JOINT_KINDS[rng.choice(len(JOINT_KINDS), p=JOINT_KIND_WEIGHTS)]
    jx = sample_joint(rng) if "x" in kind else None
    jy = sample_joint(rng) if "y" in kind else None
    return jx, jy


def _sites(morph: Morphology) -> list[tuple[int | None, str, np.ndarray, float]]:
    """All attachment sites: (limb id or None for torso, kind, position in that body's frame, abs y)."""
    absolute = morph.absolute_positions()
    out: list[tuple[int | None, str, np.ndarray, float]] = [(None, "center", np.zeros(3), 0.0)]
    for limb in morph.limbs:
        for kind, pos in limb_sites(limb).items():
            out.append((limb.id, kind, pos, float(absolute[limb.id][1] + pos[1])))
    return out


def place_torso(morph: Morphology) -> Morphology:
    """Set the torso height so that the lowest point is FLOOR_CLEARANCE above the floor."""
    z = round(FLOOR_CLEARANCE - morph.lowest_point(), 4) + 0.0
    t = morph.torso
    return replace(morph, torso=replace(t, pos=(t.pos[0], t.pos[1], z)))


def _mirror_site(morph: Morphology, limb_id: int, kind: str) -> tuple[int, np.ndarray]:
    other = morph.mirror_of(limb_id)
    if other is None:
        raise ValueError(f"limb {limb_id} is off the symmetry plane but has no mirror")
    return other, limb_sites(morph.limb(other))[kind]


def grow(
    morph: Morphology,
    rng: np.random.Generator,
    max_new: int | None = None,
    attempts: int = 30,
    density: float | None = None,
) -> tuple[Morphology, tuple[int, ...]] | None:
    """One growth step (one limb, or a mirrored pair); None when no attempt was valid.

    Returns the grown robot (torso not re-placed) and the ids of the new limbs.
    """
    sites = _sites(morph)
    room_bodies = MAX_LIMBS - morph.num_bodies
    room_motors = MAX_MOTORS - morph.num_joints
    if max_new is not None:
        room_bodies = min(room_bodies, max_new)
    if room_bodies < 1 or room_motors < 1:
        return None
    next_id = max((lb.id for lb in morph.limbs), default=-1) + 1
    if density is None:
        density = morph.limbs[0].density if morph.limbs else float(DENSITY_CHOICES[rng.integers(len(DENSITY_CHOICES))])
    for _ in range(attempts):
        parent, kind, site, abs_y = sites[rng.integers(len(sites))]
        theta, phi = sample_direction(rng)
        d = direction(theta, phi)
        if parent is not None:
            if float(np.dot(d, morph.limb(parent).direction)) < MAX_FOLD_BACK:
                continue
        h = float(LIMB_H_CHOICES[rng.integers(len(LIMB_H_CHOICES))])
        jx, jy = sample_joints(rng)
        n_joints = (jx is not None) + (jy is not None)
        new: list[Limb] = []
        pair = None
        exclude = None
        if abs(abs_y) > 1e-9:  # off the plane: grow here and on the mirrored site
            if room_bodies < 2 or room_motors < 2 * n_joints:
                continue
            mparent, msite = _mirror_site(morph, parent, kind)  # type: ignore[arg-type]
            md = direction(mirror_theta(theta), phi)
            new.append(make_limb(next_id, parent, site, d, h, density, jx, jy))
            new.append(make_limb(next_id + 1, mparent, msite, md, h, density, jx, jy))
            pair = (next_id, next_id + 1)
        elif abs(d[1]) > 1e-9:  # on the plane, pointing off it: a mirrored pair at the same site
            if room_bodies < 2 or room_motors < 2 * n_joints:
                continue
            md = direction(mirror_theta(theta), phi)
            new.append(make_limb(next_id, parent, site, d, h, density, jx, jy))
            new.append(make_limb(next_id + 1, parent, site, md, h, density, jx, jy))
            pair = (next_id, next_id + 1)
            exclude = (new[0].name, new[1].name)
        else:
            if room_motors < n_joints:
                continue
            new.append(make_limb(next_id, parent, site, d, h, density, jx, jy))
        candidate = replace(
            morph,
            limbs=depth_first(list(morph.limbs) + new),
            symmetric_pairs=morph.symmetric_pairs + ((pair,) if pair else ()),
            contact_excludes=morph.contact_excludes + ((exclude,) if exclude else ()),
        )
        if self_contacts(candidate, margin=CONTACT_MARGIN, only={lb.id for lb in new}):
            continue
        return candidate, tuple(lb.id for lb in new)
    return None


def renumber(morph: Morphology) -> Morphology:
    """Limb ids 0..n-1 in depth-first order (names, pairs and excludes follow)."""
    mapping = {lb.id: i for i, lb in enumerate(morph.limbs)}
    limbs = tuple(
        replace(lb, id=mapping[lb.id], parent=None if lb.parent is None else mapping[lb.parent]) for lb in morph.limbs
    )

    def rename(body: str) -> str:
        if body.startswith("limb/"):
            return f"limb/{mapping[int(body.split('/')[1])]}"
        return body

    return replace(
        morph,
        limbs=limbs,
        symmetric_pairs=tuple((mapping[a], mapping[b]) for a, b in morph.symmetric_pairs),
        contact_excludes=tuple((rename(a), rename(b)) for a, b in morph.contact_excludes),
    )


def sample_target_limbs(rng: np.random.Generator, spec: GeneratorSpec) -> int:
    return int(rng.choice(spec.target_limbs, p=spec.target_weights))


def _grow_robot(rng: np.random.Generator, name: str, spec: GeneratorSpec, target: int | None) -> Morphology | None:
    if target is None:
        target = sample_target_limbs(rng, spec)
    torso = Torso(density=float(DENSITY_CHOICES[rng.integers(len(DENSITY_CHOICES))]))
    limb_density = float(DENSITY_CHOICES[rng.integers(len(DENSITY_CHOICES))])
    morph = Morphology(name=name, torso=torso, limbs=())
    failures = 0
    while morph.num_limbs < target and failures < spec.max_growth_failures:
        grown = grow(morph, rng, max_new=target - morph.num_limbs, density=limb_density)
        if grown is None:
            failures += 1
            continue
        morph = grown[0]
    if morph.num_limbs < 2 or (spec.exact_count and morph.num_limbs != target):
        return None
    return morph


def generate_robot(
    rng_or_seed, name: str | None = None, check_mujoco: bool = True, spec: GeneratorSpec = GENERATOR_V2
) -> Morphology:
    """A random valid robot in the UNIMAL design space.

    ``rng_or_seed``: a numpy Generator (consumed) or a seed (int or sequence of ints).
    The same seed and spec always give the same robot.
    """
    from workbench.morphology.validation import contacts_at_rest

    rng = _as_rng(rng_or_seed)
    if name is None:
        name = f"gen-{rng_or_seed}" if not isinstance(rng_or_seed, np.random.Generator) else "gen"
    # An exact spec keeps its drawn limb count through redraws; otherwise large robots, which
    # fail the checks more often, would be under-represented.
    target = sample_target_limbs(rng, spec) if spec.exact_count else None
    for _ in range(100):
        morph = _grow_robot(rng, name, spec, target)
        if morph is None:
            continue
        morph = place_torso(renumber(morph))
        if morph.height > MAX_TORSO_HEIGHT:
            continue
        if check_mujoco and contacts_at_rest(morph):
            continue
        return morph
    raise RuntimeError("could not generate a valid robot")  # pragma: no cover - practically unreachable


def generate_robots(
    n: int, seed: int, prefix: str | None = None, exclude_fingerprints=(), spec: GeneratorSpec = GENERATOR_V2
) -> list[Morphology]:
    """``n`` distinct robots (by fingerprint) from ``seed``; robot i is named ``{prefix}-{i:03d}``."""
    from workbench.morphology.fingerprint import fingerprint

    prefix = prefix or f"gen-{seed}"
    seen = set(exclude_fingerprints)
    robots = []
    for i in range(n):
        attempt = 0
        while True:
            morph = generate_robot(np.random.default_rng([seed, i, attempt]), name=f"{prefix}-{i:03d}", spec=spec)
            fp = fingerprint(morph)
            if fp not in seen:
                break
            attempt += 1
        seen.add(fp)
        robots.append(replace(morph, metadata={"seed": [seed, i, attempt]}))
    return robots
