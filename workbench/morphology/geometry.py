"""Geometry of the UNIMAL design space: growth sites, limb construction, collision tests.

Conventions (read off the published robots):

- A limb grown from an attachment site ``s`` of a parent with radius ``r_p``
  (0.1 for the torso, 0.05 for a limb) in direction ``d`` has its body origin at
  ``s + r_p * d``, its capsule from the origin to ``(h + 0.05) * d``, and its
  joint anchor at ``-0.05 * d``; coordinates are rounded to 2 decimals.
- Sites: the torso centre; on a limb its middle ``(h/2 + 0.05) d`` and its
  bottom ``(h + 0.05) d``.
- Direction from the angles: ``d = (sin phi cos theta, sin phi sin theta, cos phi)``.
- Joint axes: the x and y axes carried by the smallest rotation taking ``-z``
  onto ``d`` (rounded to 4 decimals); this reproduces every axis in the
  published files.
"""

from __future__ import annotations

import math

import numpy as np

from workbench.morphology.model import LIMB_RADIUS, TORSO_RADIUS, Joint, Limb, Morphology

JOINT_OFFSET = 0.05  # joint anchor distance behind the limb origin


_S45 = math.sqrt(0.5)
# cos and sin of multiples of 45 degrees, exact and sign-symmetric (so mirrored
# directions are exact mirror images and round identically)
_COS = {0: 1.0, 45: _S45, 90: 0.0, 135: -_S45, 180: -1.0, 225: -_S45, 270: 0.0, 315: _S45}
_SIN = {0: 0.0, 45: _S45, 90: 1.0, 135: _S45, 180: 0.0, 225: -_S45, 270: -1.0, 315: -_S45}


def _cos_sin(angle_deg: float) -> tuple[float, float]:
    a = int(round(angle_deg)) % 360
    if a in _COS and abs(angle_deg - round(angle_deg)) < 1e-12:
        return _COS[a], _SIN[a]
    r = math.radians(angle_deg)
    return math.cos(r), math.sin(r)


def direction(theta_deg: float, phi_deg: float) -> np.ndarray:
    ct, st = _cos_sin(theta_deg)
    cp, sp = _cos_sin(phi_deg)
    return np.array([sp * ct, sp * st, cp]) + 0.0


def _round(v, decimals: int) -> tuple[float, ...]:
    return tuple(float(x) + 0.0 for x in np.round(np.asarray(v, dtype=np.float64), decimals))


def joint_axes(d: np.ndarray) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(x axis, y axis) of the hinge joints of a limb pointing along ``d``."""
    d = np.asarray(d, dtype=np.float64)
    d = d / np.linalg.norm(d)
    src = np.array([0.0, 0.0, -1.0])
    axis = np.cross(src, d)
    s = np.linalg.norm(axis)
    c = float(np.dot(src, d))
    if s < 1e-9:
        if c > 0:  # d == -z: identity
            rot = np.eye(3)
        else:  # d == +z: half turn about x
            rot = np.diag([1.0, -1.0, -1.0])
    else:
        k = axis / s
        kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
        rot = np.eye(3) + s * kx + (1 - c) * kx @ kx
    return _round(rot[:, 0], 4), _round(rot[:, 1], 4)  # type: ignore[return-value]


def limb_sites(limb: Limb) -> dict[str, np.ndarray]:
    """Attachment sites of a limb in its body frame: ``mid`` and ``btm``."""
    d = np.asarray(limb.direction)
    length = limb.length
    return {
        "mid": np.round((0.5 * length + 0.025) * d, 2),
        "btm": np.round(np.asarray(limb.fromto[3:]), 2),
    }


def site_of_child(parent: Limb, child: Limb) -> str:
    """Which site of ``parent`` the ``child`` hangs from (nearest of mid/btm)."""
    attach = np.asarray(child.pos) - parent.radius * np.asarray(child.direction)
    sites = limb_sites(parent)
    return min(sites, key=lambda k: float(np.linalg.norm(sites[k] - attach)))


def make_limb(
    limb_id: int,
    parent: int | None,
    site: np.ndarray,
    d: np.ndarray,
    h: float,
    density: float,
    joint_x: tuple[tuple[float, float], float] | None,
    joint_y: tuple[tuple[float, float], float] | None,
) -> Limb:
    """A limb grown from ``site`` (parent frame) along ``d``; joints as ((low, high), gear)."""
    parent_radius = TORSO_RADIUS if parent is None else LIMB_RADIUS
    pos = _round(np.asarray(site) + parent_radius * d, 2)
    end = _round((h + 0.05) * d, 2)
    anchor = _round(-JOINT_OFFSET * d, 2)
    ax, ay = joint_axes(d)
    jx = None if joint_x is None else Joint(axis=ax, range=tuple(map(float, joint_x[0])), gear=float(joint_x[1]), pos=anchor)  # type: ignore[arg-type]
    jy = None if joint_y is None else Joint(axis=ay, range=tuple(map(float, joint_y[0])), gear=float(joint_y[1]), pos=anchor)  # type: ignore[arg-type]
    return Limb(
        id=limb_id,
        parent=parent,
        pos=pos,  # type: ignore[arg-type]
        fromto=(0.0, 0.0, 0.0) + end,  # type: ignore[arg-type]
        density=float(density),
        joint_x=jx,
        joint_y=jy,
    )


def depth_first(limbs) -> tuple[Limb, ...]:
    """Order limbs depth-first (pre-order), children in their given relative order."""
    children: dict[int | None, list[Limb]] = {}
    for limb in limbs:
        children.setdefault(limb.parent, []).append(limb)
    out: list[Limb] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        limb = stack.pop()
        out.append(limb)
        stack.extend(reversed(children.get(limb.id, [])))
    if len(out) != len(limbs):
        raise ValueError("limb tree is disconnected")
    return tuple(out)


def capsule_segments(morph: Morphology) -> dict[int, tuple[np.ndarray, np.ndarray, float]]:
    """Each limb's capsule segment in the torso frame: (start, end, radius)."""
    absolute = morph.absolute_positions()
    out = {}
    for limb in morph.limbs:
        base = absolute[limb.id]
        out[limb.id] = (base + np.asarray(limb.fromto[:3]), base + np.asarray(limb.fromto[3:]), limb.radius)
    return out


def segment_distance(p1, q1, p2, q2) -> float:
    """Smallest distance between segments [p1, q1] and [p2, q2]."""
    d1 = q1 - p1
    d2 = q2 - p2
    r = p1 - p2
    a = float(d1 @ d1)
    e = float(d2 @ d2)
    f = float(d2 @ r)
    eps = 1e-12
    if a <= eps and e <= eps:
        return float(np.linalg.norm(r))
    if a <= eps:
        s, t = 0.0, min(max(f / e, 0.0), 1.0)
    else:
        c = float(d1 @ r)
        if e <= eps:
            t, s = 0.0, min(max(-c / a, 0.0), 1.0)
        else:
            b = float(d1 @ d2)
            denom = a * e - b * b
            s = min(max((b * f - c * e) / denom, 0.0), 1.0) if denom > eps else 0.0
            t = (b * s + f) / e
            if t < 0.0:
                t, s = 0.0, min(max(-c / a, 0.0), 1.0)
            elif t > 1.0:
                t, s = 1.0, min(max((b - c) / a, 0.0), 1.0)
    return float(np.linalg.norm((p1 + d1 * s) - (p2 + d2 * t)))


def point_segment_distance(x, p, q) -> float:
    d = q - p
    n = float(d @ d)
    t = 0.0 if n <= 1e-12 else min(max(float((x - p) @ d) / n, 0.0), 1.0)
    return float(np.linalg.norm(x - (p + t * d)))


def self_contacts(morph: Morphology, margin: float = 0.0, only: set[int] | None = None) -> list[tuple[str, str]]:
    """Body pairs whose geoms touch at rest (MuJoCo's rules: parent/child and
    excluded pairs are filtered). ``margin`` > 0 makes the test conservative.
    ``only``: check only pairs involving these limb ids (for incremental growth).
    """
    segs = capsule_segments(morph)
    parent = {limb.id: limb.parent for limb in morph.limbs}
    excluded = {frozenset(p) for p in morph.contact_excludes}
    names = {limb.id: limb.name for limb in morph.limbs}
    torso_name = "torso/0"
    out = []
    origin = np.zeros(3)
    ids = [limb.id for limb in morph.limbs]
    for i, a in enumerate(ids):
        pa, qa, ra = segs[a]
        # torso sphere
        if parent[a] is not None and (only is None or a in only):
            if frozenset((torso_name, names[a])) not in excluded:
                if point_segment_distance(origin, pa, qa) < morph.torso.radius + ra + margin:
                    out.append((torso_name, names[a]))
        for b in ids[i + 1 :]:
            if only is not None and a not in only and b not in only:
                continue
            if parent[a] == b or parent[b] == a:
                continue
            if frozenset((names[a], names[b])) in excluded:
                continue
            pb, qb, rb = segs[b]
            if segment_distance(pa, qa, pb, qb) < ra + rb + margin:
                out.append((names[a], names[b]))
    return out
