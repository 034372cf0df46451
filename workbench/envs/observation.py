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



class ObsIndex:
    """Per-robot destination indices inside the padded (12, 52) observation."""

    __slots__ = ("body_ids", "nb", "torso", "root", "jq", "jd", "jlimb", "jangle", "jvel", "low", "span")

    def __init__(self, tables: RobotTables) -> None:
        # Contiguous index arrays become slices: views instead of gathers.
        self.body_ids = _as_slice(tables.body_ids)
        self.nb = len(tables.body_ids)
        self.torso = tables.torso_id
        self.root = tables.root_qpos
        self.jq = _as_slice(tables.joint_qpos)
        self.jd = _as_slice(tables.joint_dof)
        self.jlimb = tables.joint_slot // L.JOINTS_PER_LIMB
        axis = tables.joint_slot % L.JOINTS_PER_LIMB
        self.jangle = np.where(axis == 0, JX_ANGLE, JY_ANGLE)
        self.jvel = np.where(axis == 0, JX_VEL, JY_VEL)
        self.low = tables.joint_low
        self.span = tables.joint_span


def _as_slice(index: np.ndarray):
    index = np.asarray(index, np.int64)
    if index.size and np.array_equal(index, np.arange(index[0], index[0] + index.size)):
        return slice(int(index[0]), int(index[0] + index.size))
    return index


def _rows_cols(rows, cols):
    """Index for (rows, cols) of a 2-D+ array: slices stay basic indexing."""
    if isinstance(rows, slice) or isinstance(cols, slice):
        return rows, cols
    return rows[:, None], cols[None, :]


_CROSS_W = np.array([1, 2, 0, 2, 0, 1])
_CROSS_R = np.array([2, 0, 1, 1, 2, 0])


def body_dynamics_into(
    out: np.ndarray, index: ObsIndex, xpos: np.ndarray, xquat: np.ndarray, cvel: np.ndarray, subtree_com: np.ndarray, rows
) -> None:
    """Write (n, nb, 13) position (rel. torso), linear velocity, angular velocity and
    quaternion of the robot's bodies into ``out`` (any float dtype, may be a view)."""
    sel = _rows_cols(rows, index.body_ids)
    xp = xpos[sel]
    cv = cvel[sel]
    np.subtract(xp, xp[:, :1], out=out[..., 0:3])
    w = cv[..., 0:3]
    r = xp - subtree_com[rows, index.torso][:, None, :]
    # velocity of the body origin: v_com + w x r (cvel is taken at the tree's centre of mass)
    prod = w[..., _CROSS_W] * r[..., _CROSS_R]
    lin = prod[..., 0:3] - prod[..., 3:6]
    np.add(lin, cv[..., 3:6], out=out[..., 3:6])  # one rounding, whatever the dtype of out
    out[..., 6:9] = w
    out[..., 9:13] = xquat[sel]


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
    q = qpos[_rows_cols(rows, index.jq)]
    qd = qvel[_rows_cols(rows, index.jd)]
    if isinstance(dest, slice):
        body_dynamics_into(buf[dest, : index.nb, 0:13], index, xpos, xquat, cvel, subtree_com, rows)
        buf[dest, index.jlimb, index.jangle] = (q - index.low) / index.span
        buf[dest, index.jlimb, index.jvel] = qd
    else:
        body = np.empty((len(dest), index.nb, 13))
        body_dynamics_into(body, index, xpos, xquat, cvel, subtree_com, rows)
        buf[dest, : index.nb, 0:13] = body
        d = dest[:, None]
        buf[d, index.jlimb[None, :], index.jangle[None, :]] = (q - index.low) / index.span
        buf[d, index.jlimb[None, :], index.jvel[None, :]] = qd
