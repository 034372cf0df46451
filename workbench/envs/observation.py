"""Batched assembly of the per-limb proprioceptive observation.

One function, :func:`write_proprioceptive`, serves both the single environment
(a batch of one) and the vectorised environment (one call per robot group), so
the two produce the same observation for the same simulator state.

Conventions (as Gymnasium's MuJoCo environments): joint angles and velocities
are read from ``qpos`` / ``qvel`` (the state after the step); body positions,
orientations and velocities from MuJoCo's derived fields ``xpos``, ``xquat``,
``cvel`` as the last physics substep computed them (one 5 ms substep behind the
state). Linear and angular velocities are those of the body frame origin, in
world axes; positions are relative to the torso, in world axes.
"""

from __future__ import annotations

import numpy as np

from workbench.envs import layout as L
from workbench.envs.robot import JX_ANGLE, JX_VEL, JY_ANGLE, JY_VEL, RobotTables

_C1 = np.array([1, 2, 0])
_C2 = np.array([2, 0, 1])


class ObsIndex:
    """Per-robot destination indices inside the padded (12, 52) observation."""

    __slots__ = ("body_ids", "nb", "torso", "root", "jq", "jd", "jlimb", "jangle", "jvel", "low", "span", "body_sel")

    def __init__(self, tables: RobotTables) -> None:
        self.body_ids = tables.body_ids
        self.nb = len(tables.body_ids)
        self.torso = tables.torso_id
        self.root = tables.root_qpos
        self.jq = tables.joint_qpos
        self.jd = tables.joint_dof
        self.jlimb = tables.joint_slot // L.JOINTS_PER_LIMB
        axis = tables.joint_slot % L.JOINTS_PER_LIMB
        self.jangle = np.where(axis == 0, JX_ANGLE, JY_ANGLE)
        self.jvel = np.where(axis == 0, JX_VEL, JY_VEL)
        self.low = tables.joint_low
        self.span = tables.joint_span


def body_dynamics(
    index: ObsIndex, xpos: np.ndarray, xquat: np.ndarray, cvel: np.ndarray, subtree_com: np.ndarray, rows
) -> np.ndarray:
    """(n, nb, 13) position (rel. torso), linear velocity, angular velocity, quaternion."""
    if isinstance(rows, slice):
        sel = (rows, index.body_ids)
        com = subtree_com[rows, index.torso]
    else:
        sel = (rows[:, None], index.body_ids[None, :])
        com = subtree_com[rows, index.torso]
    xp = xpos[sel]
    cv = cvel[sel]
    n = xp.shape[0]
    out = np.empty((n, index.nb, 13))
    np.subtract(xp, xp[:, :1], out=out[..., 0:3])
    w = cv[..., 0:3]
    r = xp - com[:, None, :]
    # v_origin = v_com - r x w = v_com + w x r
    np.add(cv[..., 3:6], w[..., _C1] * r[..., _C2] - w[..., _C2] * r[..., _C1], out=out[..., 3:6])
    out[..., 6:9] = w
    out[..., 9:13] = xquat[sel]
    return out


def write_proprioceptive(
    buf: np.ndarray,
    dest,
    index: ObsIndex,
    xpos: np.ndarray,
    xquat: np.ndarray,
    cvel: np.ndarray,
    subtree_com: np.ndarray,
    qpos: np.ndarray,
    qvel: np.ndarray,
    rows,
) -> None:
    """Write the dynamic fields of robot ``index`` into ``buf`` (B, 12, 52) float32.

    ``rows`` selects the simulations in the source arrays (a slice or an index array),
    ``dest`` the matching rows of ``buf`` (same kind). Static fields and padding of
    ``buf`` are left as they are (the caller keeps them filled per robot).
    """
    body = body_dynamics(index, xpos, xquat, cvel, subtree_com, rows)
    if isinstance(rows, slice):
        q = qpos[rows, index.jq]
        qd = qvel[rows, index.jd]
    else:
        q = qpos[rows[:, None], index.jq[None, :]]
        qd = qvel[rows[:, None], index.jd[None, :]]
    angle = (q - index.low) / index.span
    if isinstance(dest, slice):
        buf[dest, : index.nb, 0:13] = body
        buf[dest, index.jlimb, index.jangle] = angle
        buf[dest, index.jlimb, index.jvel] = qd
    else:
        buf[dest, : index.nb, 0:13] = body
        d = dest[:, None]
        buf[d, index.jlimb[None, :], index.jangle[None, :]] = angle
        buf[d, index.jlimb[None, :], index.jvel[None, :]] = qd
