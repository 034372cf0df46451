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

    __slots__ = ("body_ids", "nb", "torso", "root", "jq", "jd", "jlimb", "jangle", "jvel", "low", "span", "slots",
                 "kernel_tables")

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
        self.slots = tables.joint_slot  # padded joint slot (0..23) of each real joint
        # The same tables as plain arrays, in the order kernels.observe_single_robot takes them.
        self.kernel_tables = (
            np.asarray(tables.body_ids, np.int64), int(tables.torso_id), int(tables.root_qpos),
            np.asarray(tables.joint_qpos, np.int64), np.asarray(tables.joint_dof, np.int64),
            np.asarray(self.jlimb, np.int64), np.asarray(self.jangle, np.int64), np.asarray(self.jvel, np.int64),
            np.asarray(tables.joint_low, np.float64), np.asarray(tables.joint_span, np.float64),
        )


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


class PaddedGather:
    """Multi-robot path: gather every robot group's raw fields into padded (B, 12, .)
    buffers (a few copies per group), then compute the observation once for all envs.

    Numerically identical to :func:`write_proprioceptive` (same operations, same order).
    """

    def __init__(self, num_envs: int) -> None:
        B, M, J = num_envs, L.MAX_LIMBS, L.ACTION_DIM
        self.xpos = np.zeros((B, M, 3))
        self.xquat = np.zeros((B, M, 4))
        self.cvel = np.zeros((B, M, 6))
        self.com = np.zeros((B, 3))
        self.q = np.zeros((B, J))
        self.qd = np.zeros((B, J))
        self.low = np.zeros((B, J))
        self.span = np.ones((B, J))
        self.mask = np.zeros((B, M, 1))
        self.dyn = np.zeros((B, M, 13))
        self.angle_cols = np.array([JX_ANGLE, JY_ANGLE])
        self.vel_cols = np.array([JX_VEL, JY_VEL])

    def assign(self, i: int, index: ObsIndex) -> None:
        """Env ``i`` now runs robot ``index``: reset its padding and joint tables."""
        for buf in (self.xpos, self.xquat, self.cvel, self.q, self.qd):
            buf[i] = 0.0
        self.low[i] = 0.0
        self.span[i] = 1.0
        self.low[i, index.slots] = index.low
        self.span[i, index.slots] = index.span
        self.mask[i] = 0.0
        self.mask[i, : index.nb] = 1.0

    def gather(self, g: "GroupIndex", xpos, xquat, cvel, subtree_com, qpos, qvel) -> None:
        self.xpos[g.pad] = xpos[g.body]
        self.xquat[g.pad] = xquat[g.body]
        self.cvel[g.pad] = cvel[g.body]
        self.com[g.rows] = subtree_com[g.com]
        self.q[g.slots] = qpos[g.q]
        self.qd[g.slots] = qvel[g.qd]

    def compute(self, buf: np.ndarray) -> None:
        """Write the dynamic fields of all envs into ``buf`` (B, 12, 52)."""
        xp, cv, dyn = self.xpos, self.cvel, self.dyn
        np.subtract(xp, xp[:, :1], out=dyn[..., 0:3])
        w = cv[..., 0:3]
        r = xp - self.com[:, None, :]
        prod = w[..., _CROSS_W] * r[..., _CROSS_R]
        lin = prod[..., 0:3] - prod[..., 3:6]
        np.add(lin, cv[..., 3:6], out=dyn[..., 3:6])
        dyn[..., 6:9] = w
        dyn[..., 9:13] = self.xquat
        dyn *= self.mask
        B = buf.shape[0]
        buf[:, :, 0:13] = dyn
        buf[:, :, self.angle_cols] = ((self.q - self.low) / self.span).reshape(B, L.MAX_LIMBS, 2)
        buf[:, :, self.vel_cols] = self.qd.reshape(B, L.MAX_LIMBS, 2)


class GroupIndex:
    """Precomputed index tuples of one robot group (env ids ``rows``) for the gathers."""

    __slots__ = ("rows", "body", "pad", "com", "q", "qd", "slots", "torso", "ctrl")

    def __init__(self, index: ObsIndex, rows: np.ndarray, ctrl_slot: np.ndarray) -> None:
        col = rows[:, None]
        self.rows = rows
        self.body = _rows_cols(rows, index.body_ids)
        self.pad = (rows, slice(0, index.nb))
        self.com = (rows, index.torso)
        self.q = _rows_cols(rows, index.jq)
        self.qd = _rows_cols(rows, index.jd)
        self.slots = (col, index.slots[None, :])
        self.torso = (rows, slice(index.root, index.root + 7))
        self.ctrl = (col, ctrl_slot[None, :])
