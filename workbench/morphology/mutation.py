"""The seven UNIMAL mutation operators, with validity checks.

- ``grow_limb``: grow one limb, or a mirrored pair (see :mod:`generator`).
- ``delete_limb``: delete a leaf limb (and its mirror), never below 2 limbs.
- ``limb_params``: resample the length parameter h of a limb (and its mirror);
  the children follow their attachment site.
- ``density``: resample the torso density and the (shared) limb density.
- ``joint_angle``, ``gear``, ``dof``: resample joint ranges / resample gears /
  change the joint count (1 <-> 2), on all limbs or on one limb (and its mirror),
  each with probability 1/2.

A mutant is rejected (and the operator retried with new draws) when it has more
than 12 bodies or 16 motors, fewer than 2 limbs, loses its bilateral symmetry,
or has a self-contact at rest that the source robot did not have. Mirrored limbs
always change together, so symmetry is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from workbench.morphology.encoding import MAX_LIMBS, MAX_MOTORS
from workbench.morphology.generator import _as_rng, grow, place_torso, sample_joint
from workbench.morphology.geometry import joint_axes, limb_sites, site_of_child
from workbench.morphology.model import (
    DENSITY_CHOICES,
    GEAR_CHOICES,
    JOINT_RANGES,
    LIMB_H_CHOICES,
    Joint,
    Limb,
    Morphology,
)

MUTATION_OPERATORS = ("grow_limb", "delete_limb", "limb_params", "density", "joint_angle", "gear", "dof")
ATTEMPTS_PER_OPERATOR = 10
MIN_LIMBS = 2


def _groups(morph: Morphology) -> list[tuple[int, ...]]:
    """Limbs that change together: a mirrored pair, or a limb on the symmetry plane."""
    seen: set[int] = set()
    out = []
    for limb in morph.limbs:
        if limb.id in seen:
            continue
        other = morph.mirror_of(limb.id)
        group = (limb.id,) if other is None else (limb.id, other)
        seen.update(group)
        out.append(group)
    return out


def _scope(morph: Morphology, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """All limbs (probability 1/2) or one limb with its mirror."""
    groups = _groups(morph)
    if rng.random() < 0.5:
        return groups
    return [groups[rng.integers(len(groups))]]


def _replace_limbs(morph: Morphology, new: dict[int, Limb]) -> Morphology:
    return replace(morph, limbs=tuple(new.get(lb.id, lb) for lb in morph.limbs))


def _h_of(limb: Limb) -> float:
    return round(limb.length - 0.05, 2)


# -- operators: each returns a candidate or None when it does not apply ---------------------


def op_grow_limb(morph: Morphology, rng: np.random.Generator) -> Morphology | None:
    grown = grow(morph, rng, attempts=5)
    return None if grown is None else place_torso(grown[0])


def op_delete_limb(morph: Morphology, rng: np.random.Generator) -> Morphology | None:
    leaves = set(morph.leaf_ids())
    options = []
    for group in _groups(morph):
        if all(i in leaves for i in group) and morph.num_limbs - len(group) >= MIN_LIMBS:
            options.append(group)
    if not options:
        return None
    group = set(options[rng.integers(len(options))])
    names = {f"limb/{i}" for i in group}
    return place_torso(
        replace(
            morph,
            limbs=tuple(lb for lb in morph.limbs if lb.id not in group),
            symmetric_pairs=tuple(p for p in morph.symmetric_pairs if not set(p) & group),
            contact_excludes=tuple(e for e in morph.contact_excludes if not set(e) & names),
        )
    )


def _resize(morph: Morphology, limb: Limb, h: float) -> dict[int, Limb]:
    d = np.asarray(limb.direction)
    end = tuple(float(x) + 0.0 for x in np.round((h + 0.05) * d, 2))
    resized = replace(limb, fromto=tuple(limb.fromto[:3]) + end)
    out = {limb.id: resized}
    new_sites = limb_sites(resized)
    for child in morph.children(limb.id):
        site = new_sites[site_of_child(limb, child)]
        pos = tuple(float(x) + 0.0 for x in np.round(site + limb.radius * np.asarray(child.direction), 2))
        out[child.id] = replace(child, pos=pos)
    return out


def op_limb_params(morph: Morphology, rng: np.random.Generator) -> Morphology | None:
    groups = _groups(morph)
    group = groups[rng.integers(len(groups))]
    first = morph.limb(group[0])
    choices = [h for h in LIMB_H_CHOICES if abs(h - _h_of(first)) > 1e-6]
    h = float(choices[rng.integers(len(choices))])
    new: dict[int, Limb] = {}
    for limb_id in group:
        new.update(_resize(morph, morph.limb(limb_id), h))
    return place_torso(_replace_limbs(morph, new))


def op_density(morph: Morphology, rng: np.random.Generator) -> Morphology | None:
    """Resample the torso density and the (shared) limb density, each from the design
    space (as in the published mutants, either may keep its value by chance, not both)."""
    current = (morph.torso.density, morph.limbs[0].density)
    while True:
        torso = float(DENSITY_CHOICES[rng.integers(len(DENSITY_CHOICES))])
        limb = float(DENSITY_CHOICES[rng.integers(len(DENSITY_CHOICES))])
        if (torso, limb) != current:
            break
    return replace(
        morph,
        torso=replace(morph.torso, density=torso),
        limbs=tuple(replace(lb, density=limb) for lb in morph.limbs),
    )


def _map_joints(morph: Morphology, rng, fn: Callable[[Limb, np.random.Generator], dict]) -> Morphology:
    """Apply a per-group joint change: ``fn(first_limb, rng) -> {"x": ..., "y": ...}`` edits."""
    new: dict[int, Limb] = {}
    for group in _scope(morph, rng):
        edits = fn(morph.limb(group[0]), rng)
        for limb_id in group:
            limb = morph.limb(limb_id)
            new[limb_id] = _apply_edits(limb, edits)
    return _replace_limbs(morph, new)


def _apply_edits(limb: Limb, edits: dict) -> Limb:
    ax, ay = joint_axes(np.asarray(limb.direction))
    anchor = (limb.joint_x or limb.joint_y).pos  # type: ignore[union-attr]
    joints = {"x": limb.joint_x, "y": limb.joint_y}
    for kind, edit in edits.items():
        if edit is None:
            joints[kind] = None
            continue
        rng_pair, gear = edit
        old = joints[kind]
        joints[kind] = Joint(
            axis=old.axis if old is not None else (ax if kind == "x" else ay),
            range=rng_pair if rng_pair is not None else old.range,  # type: ignore[union-attr]
            gear=gear if gear is not None else old.gear,  # type: ignore[union-attr]
            pos=old.pos if old is not None else anchor,
        )
    return replace(limb, joint_x=joints["x"], joint_y=joints["y"])


def _new_range(rng, current) -> tuple[float, float]:
    choices = [r for r in JOINT_RANGES if r != tuple(current)]
    return choices[rng.integers(len(choices))]


def _new_gear(rng, current) -> float:
    choices = [g for g in GEAR_CHOICES if abs(g - current) > 1e-9]
    return float(choices[rng.integers(len(choices))])


def op_joint_angle(morph: Morphology, rng: np.random.Generator) -> Morphology | None:
    def fn(limb: Limb, rng):
        return {k: (_new_range(rng, j.range), None) for k, j in (("x", limb.joint_x), ("y", limb.joint_y)) if j}

    return _map_joints(morph, rng, fn)


def op_gear(morph: Morphology, rng: np.random.Generator) -> Morphology | None:
    def fn(limb: Limb, rng):
        return {k: (None, _new_gear(rng, j.gear)) for k, j in (("x", limb.joint_x), ("y", limb.joint_y)) if j}

    return _map_joints(morph, rng, fn)


def op_dof(morph: Morphology, rng: np.random.Generator) -> Morphology | None:
    def fn(limb: Limb, rng):
        if limb.joint_x is not None and limb.joint_y is not None:
            return {("x", "y")[rng.integers(2)]: None}
        missing = "y" if limb.joint_x is not None else "x"
        return {missing: sample_joint(rng)}

    return _map_joints(morph, rng, fn)


OPERATORS: dict[str, Callable[[Morphology, np.random.Generator], Morphology | None]] = {
    "grow_limb": op_grow_limb,
    "delete_limb": op_delete_limb,
    "limb_params": op_limb_params,
    "density": op_density,
    "joint_angle": op_joint_angle,
    "gear": op_gear,
    "dof": op_dof,
}
_GEOMETRIC = {"grow_limb", "delete_limb", "limb_params"}


def mutant_problems(source: Morphology, mutant: Morphology, geometric: bool = True) -> list[str]:
    """Why ``mutant`` of ``source`` is rejected (empty list: valid)."""
    from workbench.morphology.validation import contacts_at_rest, is_symmetric

    problems = []
    if mutant.num_bodies > MAX_LIMBS:
        problems.append(f"{mutant.num_bodies} bodies")
    if mutant.num_joints > MAX_MOTORS:
        problems.append(f"{mutant.num_joints} motors")
    if mutant.num_limbs < MIN_LIMBS:
        problems.append(f"{mutant.num_limbs} limbs")
    if any(lb.joint_x is None and lb.joint_y is None for lb in mutant.limbs):
        problems.append("a limb without joints")
    if problems:
        return problems
    if geometric:
        if is_symmetric(source) and not is_symmetric(mutant):
            problems.append("not symmetric")
        else:
            new = {frozenset(c) for c in contacts_at_rest(mutant)} - {frozenset(c) for c in contacts_at_rest(source)}
            if new:
                problems.append("self-contact at rest")
    return problems


def apply_operator(morph: Morphology, op: str, rng: np.random.Generator) -> Morphology | None:
    """Apply ``op`` with up to ATTEMPTS_PER_OPERATOR draws; None when no valid mutant was found."""
    fn = OPERATORS[op]
    for _ in range(ATTEMPTS_PER_OPERATOR):
        candidate = fn(morph, rng)
        if candidate is None:
            return None  # does not apply to this robot
        if not mutant_problems(morph, candidate, geometric=op in _GEOMETRIC):
            return candidate
    return None


def _ensure_pairs(morph: Morphology) -> Morphology:
    from workbench.morphology.validation import infer_symmetric_pairs

    inferred = infer_symmetric_pairs(morph)
    recorded = {frozenset(p) for p in morph.symmetric_pairs}
    if {frozenset(p) for p in inferred} != recorded:
        return replace(morph, symmetric_pairs=inferred)
    return morph


def mutate(morph: Morphology, rng, steps: int | None = None, name: str | None = None) -> Morphology:
    """A valid mutant of ``morph`` after ``steps`` operators (uniform in {1, 2, 3} when None).

    The mutant's ``mutations`` extend the source's with the operators applied,
    in order; its name is ``<source>-mutate-<op>-<op>...`` unless ``name`` is given.
    """
    rng = _as_rng(rng)
    if steps is None:
        steps = int(rng.integers(1, 4))
    current = _ensure_pairs(morph)
    applied: list[str] = []
    for _ in range(steps):
        order = list(rng.permutation(len(MUTATION_OPERATORS)))
        for index in order:
            op = MUTATION_OPERATORS[index]
            mutant = apply_operator(current, op, rng)
            if mutant is not None:
                current = mutant
                applied.append(op)
                break
        else:  # pragma: no cover - every robot admits at least density/gear changes
            raise RuntimeError(f"no valid mutation of {morph.name}")
    return replace(
        current,
        name=name or f"{morph.name}-mutate-{'-'.join(applied)}",
        mutations=tuple(morph.mutations) + tuple(applied),
        metadata={"parent": morph.name},
        source=None,
    )
