"""Validity checks of the UNIMAL design space and symmetry inference."""

from __future__ import annotations

import numpy as np

from workbench.morphology.encoding import MAX_LIMBS, MAX_MOTORS
from workbench.morphology.model import Morphology

_TOL = 1e-6


def _mirror(v) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64).copy()
    a[..., 1] *= -1.0
    return a


def infer_symmetric_pairs(morph: Morphology) -> tuple[tuple[int, int], ...]:
    """Mirrored limb pairs (reflection about the xz-plane) found from the geometry.

    Used when a file comes without UNIMAL metadata. Limb b mirrors limb a when
    their parents mirror each other (or are the same body) and b's position and
    capsule are a's reflected; limbs lying in the xz-plane mirror themselves and
    are not listed.
    """
    mirror: dict[int | None, int | None] = {None: None}
    pairs: list[tuple[int, int]] = []
    limbs = list(morph.limbs)
    for i, a in enumerate(limbs):
        if a.id in mirror:
            continue
        pa = np.asarray(a.pos)
        fa = np.asarray(a.fromto).reshape(2, 3)
        if abs(pa[1]) < _TOL and np.all(np.abs(fa[:, 1]) < _TOL) and mirror.get(a.parent, -1) == a.parent:
            mirror[a.id] = a.id
            continue
        for b in limbs[i + 1 :]:
            if b.id in mirror:
                continue
            if mirror.get(a.parent, "?") != b.parent:
                continue
            if np.allclose(_mirror(pa), b.pos, atol=_TOL) and np.allclose(
                _mirror(fa), np.asarray(b.fromto).reshape(2, 3), atol=_TOL
            ):
                mirror[a.id] = b.id
                mirror[b.id] = a.id
                pairs.append((a.id, b.id))
                break
    return tuple(pairs)


def _capsules(morph: Morphology) -> set[tuple[float, ...]]:
    absolute = morph.absolute_positions()
    out = set()
    for limb in morph.limbs:
        base = absolute[limb.id]
        seg = np.asarray(limb.fromto).reshape(2, 3) + base
        out.add(tuple(np.round(seg.ravel(), 4) + 0.0))
    return out


def is_symmetric(morph: Morphology) -> bool:
    """The robot's capsules (in the torso frame) are invariant under reflection y -> -y."""
    caps = _capsules(morph)
    mirrored = set()
    for c in caps:
        a = np.asarray(c).reshape(2, 3)
        mirrored.add(tuple(np.round(_mirror(a).ravel(), 4) + 0.0))
    return caps == mirrored


def contacts_at_rest(morph: Morphology) -> list[tuple[str, str]]:
    """Pairs of robot bodies in contact in the initial pose (no floor, filterparent on)."""
    import mujoco

    model = mujoco.MjModel.from_xml_string(morph.to_xml(camera=False))
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    out = []
    for i in range(data.ncon):
        c = data.contact[i]
        b1 = model.body(model.geom_bodyid[c.geom1]).name
        b2 = model.body(model.geom_bodyid[c.geom2]).name
        out.append((b1, b2))
    return out


def design_problems(morph: Morphology, check_contacts: bool = True) -> list[str]:
    """Why ``morph`` is outside the design space (empty when it is valid)."""
    problems = []
    if morph.num_bodies > MAX_LIMBS:
        problems.append(f"too many limbs: {morph.num_bodies} bodies (at most {MAX_LIMBS})")
    if morph.num_joints > MAX_MOTORS:
        problems.append(f"too many motors: {morph.num_joints} (at most {MAX_MOTORS})")
    if morph.num_limbs < 1:
        problems.append("no limbs")
    if not is_symmetric(morph):
        problems.append("not bilaterally symmetric")
    if check_contacts and not problems:
        contacts = contacts_at_rest(morph)
        if contacts:
            a, b = contacts[0]
            problems.append(f"self-contact at rest between {a} and {b}")
    return problems


def is_valid(morph: Morphology, check_contacts: bool = True) -> bool:
    return not design_problems(morph, check_contacts=check_contacts)
