"""Per-limb context features (morphology only), masks.

Layout: :data:`workbench.envs.layout.CONTEXT` (53 values per body slot), slots in
depth-first (MuJoCo body) order, torso first, zero-padded to ``MAX_LIMBS``.

Fields and their fixed scaling (no running statistics):

==================  ===========================================================
body_pos (3)        ``"absolute"``: body origin in the torso frame, the sum of the
                    relative positions along the path from the torso (paper,
                    Appendix A); each coordinate scaled from [-2, 2] m to
                    [-1, 1] and clipped. ``"relative"``: the body origin in its
                    parent frame, scaled from [-0.5, 0.5] m. Torso: zeros.
inertial_pos (3)    ``"absolute"``: body_pos + the inertial frame offset, scaled
                    from [-2, 2]; ``"relative"``: the offset in the body frame,
                    scaled from [-0.5, 0.5].
inertial_quat (4)   (w, x, y, z) of the inertial frame in the body frame, as MuJoCo
                    computes it; already in [-1, 1], unscaled.
mass (1)            kg, scaled from [0, 5] (design space: 1.2-4.2 kg).
shape (2)           radius scaled from [0, 0.1] m, half-length from [0, 0.25] m
                    (torso: radius 0.1, half-length 0).
joint_*_range_onehot (13)  one-hot over :data:`JOINT_RANGES`; zeros if absent.
joint_*_axis (3)    unit hinge axis (already in [-1, 1]); zeros if absent.
joint_*_gear_onehot (4)    one-hot over {150, 200, 250, 300}; zeros if absent.
==================  ===========================================================

A value outside the design space (e.g. a range pair that is not one of the 13)
gives an all-zero one-hot; positions beyond the bounds are clipped.

Everything is computed analytically from the model (no MuJoCo compile): a few
tens of microseconds per robot. ``tests/test_morphology_context.py`` checks the
inertial quantities against MuJoCo's ``body_ipos``, ``body_iquat``, ``body_mass``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from workbench.morphology.encoding import ACTION_DIM, CONTEXT, MAX_LIMBS
from workbench.morphology.model import GEAR_CHOICES, JOINT_RANGES, Joint, Limb, Morphology

ABSOLUTE_POS_BOUND = 2.0
RELATIVE_POS_BOUND = 0.5
MASS_BOUNDS = (0.0, 5.0)
RADIUS_BOUNDS = (0.0, 0.1)
HALF_LENGTH_BOUNDS = (0.0, 0.25)
POSITION_MODES = ("absolute", "relative")

_RANGE_INDEX = {pair: i for i, pair in enumerate(JOINT_RANGES)}
_GEAR_INDEX = {g: i for i, g in enumerate(GEAR_CHOICES)}
_S = {name: CONTEXT.slice(name) for name in CONTEXT.names()}


def _scale(value, low: float, high: float):
    return np.clip((np.asarray(value, dtype=np.float64) - low) / (high - low) * 2.0 - 1.0, -1.0, 1.0)


def capsule_quat(fromto) -> tuple[float, float, float, float]:
    """The frame MuJoCo gives a ``fromto`` capsule: its z axis along (from - to)."""
    v = np.array(fromto[:3], dtype=np.float64) - np.array(fromto[3:], dtype=np.float64)
    n = np.linalg.norm(v)
    if n < 1e-12:
        return (1.0, 0.0, 0.0, 0.0)
    v = v / n
    # Rotation taking (0, 0, 1) onto v (MuJoCo's z2quat).
    axis = np.array([-v[1], v[0], 0.0])
    s = np.linalg.norm(axis)
    if s < 1e-10:
        return (1.0, 0.0, 0.0, 0.0) if v[2] > 0 else (0.0, 1.0, 0.0, 0.0)
    axis /= s
    angle = math.atan2(s, v[2])
    half = 0.5 * angle
    w = math.cos(half)
    xyz = axis * math.sin(half)
    return (w, float(xyz[0]), float(xyz[1]), float(xyz[2]))


def range_onehot_index(rng) -> int | None:
    return _RANGE_INDEX.get((float(rng[0]), float(rng[1])))


def _joint_block(row: np.ndarray, prefix: str, joint: Joint | None) -> None:
    if joint is None:
        return
    base = _S[f"{prefix}_range_onehot"].start
    i = range_onehot_index(joint.range)
    if i is not None:
        row[base + i] = 1.0
    axis = np.asarray(joint.axis, dtype=np.float64)
    norm = np.linalg.norm(axis)
    row[_S[f"{prefix}_axis"]] = axis / norm if norm > 0 else axis
    g = _GEAR_INDEX.get(float(joint.gear))
    if g is not None:
        row[_S[f"{prefix}_gear_onehot"].start + g] = 1.0


def _context(morph: Morphology, position: str) -> np.ndarray:
    if position not in POSITION_MODES:
        raise ValueError(f"position must be one of {POSITION_MODES}, got {position!r}")
    out = np.zeros((MAX_LIMBS, CONTEXT.size), dtype=np.float64)
    t = morph.torso
    out[0, _S["inertial_quat"]] = (1.0, 0.0, 0.0, 0.0)
    out[0, _S["mass"]] = _scale(t.mass, *MASS_BOUNDS)
    out[0, _S["shape"]] = (_scale(t.radius, *RADIUS_BOUNDS), _scale(0.0, *HALF_LENGTH_BOUNDS))
    absolute = morph.absolute_positions() if position == "absolute" else None
    pos_bound = ABSOLUTE_POS_BOUND if position == "absolute" else RELATIVE_POS_BOUND
    # torso position fields: the origin of the torso frame (0 scaled stays 0 for symmetric bounds)
    for slot, limb in enumerate(morph.limbs[: MAX_LIMBS - 1], start=1):
        row = out[slot]
        center = np.asarray(limb.center)
        if absolute is not None:
            body = absolute[limb.id]
            inertial = body + center
        else:
            body = np.asarray(limb.pos)
            inertial = center
        row[_S["body_pos"]] = _scale(body, -pos_bound, pos_bound)
        row[_S["inertial_pos"]] = _scale(inertial, -pos_bound, pos_bound)
        row[_S["inertial_quat"]] = capsule_quat(limb.fromto)
        row[_S["mass"]] = _scale(limb.mass, *MASS_BOUNDS)
        row[_S["shape"]] = (
            _scale(limb.radius, *RADIUS_BOUNDS),
            _scale(limb.half_length, *HALF_LENGTH_BOUNDS),
        )
        _joint_block(row, "joint_x", limb.joint_x)
        _joint_block(row, "joint_y", limb.joint_y)
    return out.astype(np.float32)


@lru_cache(maxsize=4096)
def _context_cached(morph: Morphology, position: str) -> np.ndarray:
    result = _context(morph, position)
    result.flags.writeable = False
    return result


def context_features(morph: Morphology, position: str = "absolute") -> np.ndarray:
    """(12, 53) float32 context of ``morph``, zero-padded; see the module docstring."""
    try:
        return _context_cached(morph, position).copy()
    except TypeError:  # unhashable (should not happen with frozen models)
        return _context(morph, position)


def limb_mask(morph: Morphology) -> np.ndarray:
    """(12,) float32: 1 for the torso and each real limb slot, 0 for padding."""
    mask = np.zeros(MAX_LIMBS, dtype=np.float32)
    mask[: min(morph.num_bodies, MAX_LIMBS)] = 1.0
    return mask


def action_mask(morph: Morphology) -> np.ndarray:
    """(24,) float32: 1 where the action slot (x then y joint per body slot) has a motor."""
    mask = np.zeros(ACTION_DIM, dtype=np.float32)
    for slot, (jx, jy) in enumerate(morph.joint_slots()[:MAX_LIMBS]):
        if jx is not None:
            mask[2 * slot] = 1.0
        if jy is not None:
            mask[2 * slot + 1] = 1.0
    return mask


def limb_table(morph: Morphology) -> list[dict]:
    """One row per body (torso first): limb, parent, length, joints, ranges, gears, mass."""
    rows = [
        {
            "limb": "torso/0",
            "parent": "",
            "length": 0.0,
            "radius": morph.torso.radius,
            "joints": "",
            "ranges": "",
            "gears": "",
            "density": morph.torso.density,
            "mass": round(morph.torso.mass, 4),
        }
    ]
    for limb in morph.limbs:
        rows.append(_limb_row(limb))
    return rows


def _limb_row(limb: Limb) -> dict:
    joints = limb.joints
    return {
        "limb": limb.name,
        "parent": limb.parent_name,
        "length": round(limb.length, 4),
        "radius": limb.radius,
        "joints": ", ".join(name for name, _ in joints),
        "ranges": ", ".join(f"[{j.range[0]:g}, {j.range[1]:g}]" for _, j in joints),
        "gears": ", ".join(f"{j.gear:g}" for _, j in joints),
        "density": limb.density,
        "mass": round(limb.mass, 4),
    }
