"""The observation and action layout shared by environments, models and deployment.

Everything that indexes into an observation uses the names declared here, never
bare numbers. A robot is padded to ``MAX_LIMBS`` slots in depth-first (MuJoCo
body) order, slot 0 being the torso. Each slot owns two action slots, the
``x`` joint then the ``y`` joint (``limbx/k``, ``limby/k``); the torso's and
missing joints' action slots are masked.

Observation (a dict; the vectorised env adds a leading batch axis):

===============  ==============  ==================================================
key              shape           meaning
===============  ==============  ==================================================
proprioceptive   (12, 52)        per-limb state and static body/joint description
context          (12, 53)        per-limb morphology context, constant per robot
limb_mask        (12,)           1.0 for a real limb slot, 0.0 for padding
action_mask      (24,)           1.0 for an action slot driven by a real motor
heightmap        (1410,)         VT and Obstacle only: terrain heights around torso
===============  ==============  ==================================================
"""

from __future__ import annotations

from workbench.morphology.encoding import (  # noqa: F401  (re-exported: the layout's names)
    ACTION_DIM,
    CONTEXT,
    JOINTS_PER_LIMB,
    MAX_LIMBS,
    MAX_MOTORS,
    FieldLayout,
)

HEIGHTMAP_SHAPE = (30, 47)  # (ahead/behind samples, left/right samples)
HEIGHTMAP_SIZE = HEIGHTMAP_SHAPE[0] * HEIGHTMAP_SHAPE[1]  # 1410

OBS_PROPRIOCEPTIVE = "proprioceptive"
OBS_CONTEXT = "context"
OBS_LIMB_MASK = "limb_mask"
OBS_ACTION_MASK = "action_mask"
OBS_HEIGHTMAP = "heightmap"


def _joint_fields(prefix: str) -> tuple[tuple[str, int], ...]:
    return (
        (f"{prefix}_angle", 1),  # joint angle scaled to [0, 1] by its range
        (f"{prefix}_velocity", 1),
        (f"{prefix}_anchor", 3),  # joint anchor position in the body frame
        (f"{prefix}_range", 2),  # (low, high) in radians
        (f"{prefix}_axis", 3),
        (f"{prefix}_gear", 1),
    )


# Per-limb proprioceptive observation: 30 body values + 2 x 11 joint values = 52.
PROPRIOCEPTIVE = FieldLayout(
    (
        ("position", 3),  # body position relative to the torso, world axes
        ("linear_velocity", 3),
        ("angular_velocity", 3),
        ("orientation", 4),  # body quaternion (w, x, y, z)
        ("body_pos", 3),  # body frame origin in its parent frame
        ("inertial_pos", 3),
        ("inertial_quat", 4),
        ("geom_quat", 4),
        ("mass", 1),
        ("shape", 2),  # capsule radius, half-length (sphere: radius, 0)
        *_joint_fields("joint_x"),
        *_joint_fields("joint_y"),
    )
)
assert PROPRIOCEPTIVE.size == 52


# The 17-value "state only" subset of the proprioceptive features that the
# distilled MLP students read: position, velocities and orientation of the body
# plus angle and velocity of both joint slots.
STATE_FIELDS = (
    "position",
    "linear_velocity",
    "angular_velocity",
    "orientation",
    "joint_x_angle",
    "joint_x_velocity",
    "joint_y_angle",
    "joint_y_velocity",
)


def state_indices() -> list[int]:
    """Indices of the 17 state-only values inside the 52 proprioceptive values."""
    indices: list[int] = []
    for name in STATE_FIELDS:
        part = PROPRIOCEPTIVE.slice(name)
        indices.extend(range(part.start, part.stop))
    return indices


STATE_DIM = len(state_indices())
assert STATE_DIM == 17


def action_slot(limb_slot: int, joint: str) -> int:
    """Index in the 24 padded actions of a limb slot's ``"x"`` or ``"y"`` joint."""
    return limb_slot * JOINTS_PER_LIMB + ("x", "y").index(joint)
