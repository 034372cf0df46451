"""Compiled per-step kernels for the vectorised environment's hot path.

With one robot in every env, a step's Python work after the physics is some twenty
small numpy calls (gathers, a cross product, scatters, blow-up reductions), each
costing about a microsecond of interpreter overhead on arrays of a few hundred
values. :func:`observe_single_robot` does all of it in one compiled loop.

It reproduces :func:`workbench.envs.observation.write_proprioceptive` bit for bit:
the same float64 operations in the same order, one rounding to float32 per value
(``tests/test_env_kernels.py`` compares the two).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def observe_single_robot(
    proprio: np.ndarray,      # (B, 12, 52) float32, written: dynamic fields of the real limbs
    torso: np.ndarray,        # (B, 7) float64, written: the root joint's qpos
    unstable: np.ndarray,     # (B,) bool, set where the physics blew up
    warn_prev: np.ndarray,    # (B,) int64, each env's warning count at its last check (updated)
    xpos: np.ndarray,         # (B, nbody, 3)
    xquat: np.ndarray,        # (B, nbody, 4)
    cvel: np.ndarray,         # (B, nbody, 6) [angular, linear] at the subtree centre of mass
    subtree_com: np.ndarray,  # (B, nbody, 3)
    qpos: np.ndarray,         # (B, nq)
    qvel: np.ndarray,         # (B, nv)
    qacc: np.ndarray,         # (B, nv)
    warning: np.ndarray,      # (B, nwarning, 2) int, [:, :, 1] counts each warning
    bodies: np.ndarray,       # (nb,) body ids of the limbs, torso first
    torso_body: int,          # body id of the torso (its subtree_com is the robot's)
    root: int,                # qpos address of the free joint
    joint_qpos: np.ndarray,   # (J,) qpos address of each joint
    joint_dof: np.ndarray,    # (J,) dof address of each joint
    joint_limb: np.ndarray,   # (J,) limb slot (row of proprio) of each joint
    joint_angle: np.ndarray,  # (J,) column of its normalised angle
    joint_vel: np.ndarray,    # (J,) column of its velocity
    joint_low: np.ndarray,    # (J,) lower limit
    joint_span: np.ndarray,   # (J,) upper - lower limit
    max_qvel: float,
    max_qacc: float,
) -> None:
    B = proprio.shape[0]
    nb = bodies.shape[0]
    t = bodies[0]
    for b in range(B):
        com = subtree_com[b, torso_body]
        for k in range(nb):
            i = bodies[k]
            out = proprio[b, k]
            rx = xpos[b, i, 0] - com[0]
            ry = xpos[b, i, 1] - com[1]
            rz = xpos[b, i, 2] - com[2]
            wx, wy, wz = cvel[b, i, 0], cvel[b, i, 1], cvel[b, i, 2]
            out[0] = xpos[b, i, 0] - xpos[b, t, 0]
            out[1] = xpos[b, i, 1] - xpos[b, t, 1]
            out[2] = xpos[b, i, 2] - xpos[b, t, 2]
            # velocity of the body origin: v_com + w x r, as observation.body_dynamics_into
            out[3] = (wy * rz - wz * ry) + cvel[b, i, 3]
            out[4] = (wz * rx - wx * rz) + cvel[b, i, 4]
            out[5] = (wx * ry - wy * rx) + cvel[b, i, 5]
            out[6] = wx
            out[7] = wy
            out[8] = wz
            for c in range(4):
                out[9 + c] = xquat[b, i, c]
        for j in range(joint_qpos.shape[0]):
            proprio[b, joint_limb[j], joint_angle[j]] = (qpos[b, joint_qpos[j]] - joint_low[j]) / joint_span[j]
            proprio[b, joint_limb[j], joint_vel[j]] = qvel[b, joint_dof[j]]
        for c in range(7):
            torso[b, c] = qpos[b, root + c]
        # Blow-ups: a new MuJoCo warning, or a velocity / acceleration beyond the limits
        # (written as "not <=" so that NaN counts too).
        warnings = 0
        for w in range(warning.shape[1]):
            warnings += warning[b, w, 1]
        bad = warnings > warn_prev[b]
        warn_prev[b] = warnings
        for d in range(qvel.shape[1]):
            if not abs(qvel[b, d]) <= max_qvel or not abs(qacc[b, d]) <= max_qacc:
                bad = True
                break
        if bad:
            unstable[b] = True
