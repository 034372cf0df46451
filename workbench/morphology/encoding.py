"""What the observation layout takes from the robot design space: its limits and the context layout.

The morphology package owns these because they describe robots (how many limbs and motors a robot may
have, how one limb's design is encoded); ``workbench.envs.layout`` re-exports them beside the
observation fields, so the dependency points one way (envs -> morphology).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_LIMBS = 12  # torso included
JOINTS_PER_LIMB = 2  # x joint, then y joint
ACTION_DIM = MAX_LIMBS * JOINTS_PER_LIMB  # 24 padded action slots
MAX_MOTORS = 16  # design-space limit on real motors


@dataclass(frozen=True)
class FieldLayout:
    """An ordered list of named fields packed into one feature vector."""

    fields: tuple[tuple[str, int], ...]

    @property
    def size(self) -> int:
        return sum(width for _, width in self.fields)

    def slice(self, name: str) -> slice:
        start = 0
        for field_name, width in self.fields:
            if field_name == name:
                return slice(start, start + width)
            start += width
        raise KeyError(f"no field {name!r} in layout")

    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)


def _context_joint_fields(prefix: str) -> tuple[tuple[str, int], ...]:
    return (
        (f"{prefix}_range_onehot", 13),  # one of the 13 design-space range pairs
        (f"{prefix}_axis", 3),
        (f"{prefix}_gear_onehot", 4),  # gear in {150, 200, 250, 300}
    )


# Per-limb morphology context: 13 limb values + 2 x 20 joint values = 53.
CONTEXT = FieldLayout(
    (
        ("body_pos", 3),  # absolute (summed from the torso) unless the relative variant is chosen
        ("inertial_pos", 3),  # likewise absolute
        ("inertial_quat", 4),
        ("mass", 1),
        ("shape", 2),
        *_context_joint_fields("joint_x"),
        *_context_joint_fields("joint_y"),
    )
)
assert CONTEXT.size == 53
