"""Typed model of a UNIMAL robot.

A robot is a tree: the root ``torso/0`` is a sphere on a free joint, every other
body ``limb/k`` is a capsule hanging from its parent by one or two hinge joints
(``limbx/k``, ``limby/k``), each driven by a motor. All quantities are stored
exactly as they appear in the MJCF (lengths in metres, angles in degrees), so
that writing a model back gives bit-identical physics.

The dataclasses are frozen: editing operations (the generator, the mutation
operators) build new instances with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from workbench.morphology.encoding import MAX_LIMBS, MAX_MOTORS

Vec3 = tuple[float, float, float]

# ---------------------------------------------------------------------------
# Design-space constants (UNIMAL)
# ---------------------------------------------------------------------------
TORSO_RADIUS = 0.1
LIMB_RADIUS = 0.05
LIMB_H_CHOICES = (0.2, 0.3, 0.4)  # capsule length (fromto) is 0.05 + h
GEAR_CHOICES = (150.0, 200.0, 250.0, 300.0)
DENSITY_CHOICES = (500.0, 600.0, 700.0, 800.0, 900.0, 1000.0)
THETA_CHOICES = tuple(range(0, 360, 45))  # degrees, azimuth in the xy-plane
PHI_CHOICES = (90, 135, 180)  # degrees, polar angle from +z
# The 13 joint range pairs (degrees) of the published UNIMAL robots, in the
# fixed order of the context one-hot.
JOINT_RANGES: tuple[tuple[float, float], ...] = (
    (-90.0, 0.0),
    (-60.0, 0.0),
    (-60.0, 30.0),
    (-60.0, 60.0),
    (-45.0, 0.0),
    (-45.0, 45.0),
    (-30.0, 0.0),
    (-30.0, 30.0),
    (-30.0, 60.0),
    (0.0, 30.0),
    (0.0, 45.0),
    (0.0, 60.0),
    (0.0, 90.0),
)
# Joint class ``normal_joint`` (every limb joint) and the free root joint.
JOINT_DAMPING = 1.0
JOINT_STIFFNESS = 1.0
JOINT_ARMATURE = 1.0
JOINT_SOLIMPLIMIT = (0.0, 0.99, 0.01)
FRICTION = (0.7, 0.1, 0.1)
CONDIM = 3
TIMESTEP = 0.005
FLOOR_CLEARANCE = 0.2  # lowest point of a generated robot above the floor
TORSO_NAME = "torso/0"


def limb_name(limb_id: int) -> str:
    return f"limb/{limb_id}"


@dataclass(frozen=True)
class Joint:
    """A hinge joint of a limb and its motor."""

    axis: Vec3
    range: tuple[float, float]  # degrees (low, high)
    gear: float
    pos: Vec3  # anchor in the limb's body frame


@dataclass(frozen=True)
class Torso:
    """The root body: a sphere on a free joint."""

    density: float
    pos: Vec3 = (0.0, 0.0, 0.75)  # initial position; pos[2] is the torso height
    radius: float = TORSO_RADIUS

    @property
    def height(self) -> float:
        return self.pos[2]

    @property
    def mass(self) -> float:
        return self.density * 4.0 / 3.0 * math.pi * self.radius**3


@dataclass(frozen=True)
class Limb:
    """A capsule body ``limb/<id>`` with its (one or two) joints."""

    id: int
    parent: int | None  # parent limb id; None when the parent is the torso
    pos: Vec3  # body origin in the parent's frame
    fromto: tuple[float, float, float, float, float, float]  # capsule segment, body frame
    density: float
    joint_x: Joint | None = None
    joint_y: Joint | None = None
    radius: float = LIMB_RADIUS

    @property
    def name(self) -> str:
        return limb_name(self.id)

    @property
    def parent_name(self) -> str:
        return TORSO_NAME if self.parent is None else limb_name(self.parent)

    @property
    def joints(self) -> tuple[tuple[str, Joint], ...]:
        out = []
        if self.joint_x is not None:
            out.append((f"limbx/{self.id}", self.joint_x))
        if self.joint_y is not None:
            out.append((f"limby/{self.id}", self.joint_y))
        return tuple(out)

    @property
    def length(self) -> float:
        """Length of the capsule's segment (0.05 + h in the design space)."""
        a = self.fromto
        return math.sqrt((a[3] - a[0]) ** 2 + (a[4] - a[1]) ** 2 + (a[5] - a[2]) ** 2)

    @property
    def half_length(self) -> float:
        return 0.5 * self.length

    @property
    def direction(self) -> Vec3:
        a = self.fromto
        n = self.length or 1.0
        return ((a[3] - a[0]) / n, (a[4] - a[1]) / n, (a[5] - a[2]) / n)

    @property
    def center(self) -> Vec3:
        """Centre of the capsule (its inertial frame origin) in the body frame."""
        a = self.fromto
        return (0.5 * (a[0] + a[3]), 0.5 * (a[1] + a[4]), 0.5 * (a[2] + a[5]))

    @property
    def mass(self) -> float:
        r = self.radius
        return self.density * (math.pi * r * r * self.length + 4.0 / 3.0 * math.pi * r**3)


@dataclass(frozen=True)
class Morphology:
    """A UNIMAL robot: torso, limbs in depth-first (MuJoCo body) order, symmetry."""

    name: str
    torso: Torso
    limbs: tuple[Limb, ...]
    symmetric_pairs: tuple[tuple[int, int], ...] = ()
    contact_excludes: tuple[tuple[str, str], ...] = ()
    mutations: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    source: str | None = field(default=None, compare=False, hash=False, repr=False)

    # -- construction / serialisation -------------------------------------------------
    @classmethod
    def from_xml(cls, path: str | Path, name: str | None = None) -> "Morphology":
        from workbench.morphology.xml_reader import read_xml_file

        return read_xml_file(path, name=name)

    @classmethod
    def from_xml_string(cls, text: str, name: str = "robot", metadata: dict | None = None) -> "Morphology":
        from workbench.morphology.xml_reader import read_xml_string

        return read_xml_string(text, name=name, metadata=metadata)

    def to_xml(self, camera: bool = True) -> str:
        from workbench.morphology.xml_writer import write_xml

        return write_xml(self, camera=camera)

    def save(self, path: str | Path, extra_metadata: dict | None = None) -> Path:
        from workbench.morphology.xml_writer import save

        return save(self, path, extra_metadata=extra_metadata)

    def metadata_dict(self) -> dict[str, Any]:
        """The UNIMAL metadata JSON: ``num_limbs``, ``dof``, ``symmetric_limbs`` (+ mutations)."""
        out: dict[str, Any] = {
            "symmetric_limbs": [list(p) for p in self.symmetric_pairs],
            "dof": self.num_joints,
            "num_limbs": self.num_limbs,
        }
        for key, value in self.metadata.items():
            if key not in out:
                out[key] = value
        if self.mutations:
            out["mutations"] = list(self.mutations)
        return out

    # -- structure ---------------------------------------------------------------------
    @property
    def num_limbs(self) -> int:
        """Limbs excluding the torso (as the UNIMAL metadata counts)."""
        return len(self.limbs)

    @property
    def num_bodies(self) -> int:
        return len(self.limbs) + 1

    @property
    def num_joints(self) -> int:
        """Hinge joints = motors = degrees of freedom driven by the policy."""
        return sum((lb.joint_x is not None) + (lb.joint_y is not None) for lb in self.limbs)

    num_motors = num_joints
    dof = num_joints

    @property
    def mass(self) -> float:
        return self.torso.mass + sum(lb.mass for lb in self.limbs)

    @property
    def height(self) -> float:
        """Initial torso height above the floor."""
        return self.torso.height

    def body_names(self) -> list[str]:
        return [TORSO_NAME] + [lb.name for lb in self.limbs]

    def joint_slots(self) -> list[tuple[str | None, str | None]]:
        slots: list[tuple[str | None, str | None]] = [(None, None)]
        for lb in self.limbs:
            slots.append(
                (
                    f"limbx/{lb.id}" if lb.joint_x is not None else None,
                    f"limby/{lb.id}" if lb.joint_y is not None else None,
                )
            )
        return slots

    def joint_names(self) -> list[str]:
        return [name for lb in self.limbs for name, _ in lb.joints]

    def limb(self, limb_id: int) -> Limb:
        for lb in self.limbs:
            if lb.id == limb_id:
                return lb
        raise KeyError(f"no limb {limb_id} in {self.name}")

    def children(self, limb_id: int | None) -> list[Limb]:
        return [lb for lb in self.limbs if lb.parent == limb_id]

    def leaf_ids(self) -> list[int]:
        parents = {lb.parent for lb in self.limbs}
        return [lb.id for lb in self.limbs if lb.id not in parents]

    def mirror_of(self, limb_id: int) -> int | None:
        for a, b in self.symmetric_pairs:
            if a == limb_id:
                return b
            if b == limb_id:
                return a
        return None

    def absolute_positions(self) -> dict[int | None, np.ndarray]:
        """Body origins in the torso frame (sum of relative positions from the torso)."""
        out: dict[int | None, np.ndarray] = {None: np.zeros(3)}
        for lb in self.limbs:  # depth-first: parents come first
            out[lb.id] = out[lb.parent] + np.asarray(lb.pos)
        return out

    def lowest_point(self) -> float:
        """Lowest surface point of the robot relative to the torso centre (z, negative)."""
        low = -self.torso.radius
        absolute = self.absolute_positions()
        for lb in self.limbs:
            base = absolute[lb.id]
            z0 = base[2] + lb.fromto[2]
            z1 = base[2] + lb.fromto[5]
            low = min(low, min(z0, z1) - lb.radius)
        return float(low)

    def within_limits(self) -> bool:
        return self.num_bodies <= MAX_LIMBS and self.num_joints <= MAX_MOTORS

    def with_name(self, name: str) -> "Morphology":
        return replace(self, name=name)

    def __repr__(self) -> str:
        return (
            f"Morphology(name={self.name!r}, limbs={self.num_limbs}, dof={self.num_joints}, "
            f"mutations={self.mutations!r})"
        )
