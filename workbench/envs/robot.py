"""Robots as the environments see them: resolution of user input, the compiled world
model, and the per-robot index tables the observation code gathers with.

``resolve_robot`` accepts a :class:`workbench.morphology.Morphology`, a path to a
UNIMAL XML, or a built-in robot name. Everything else here reads the *compiled*
MuJoCo model, so that the observation always describes what is simulated.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from workbench.envs import layout as L
from workbench.envs.config import EnvConfig
from workbench.errors import WorkbenchError
from workbench.morphology import Morphology, context_features, load_robot

TORSO = "torso/0"
SHARED_UNIMAL = Path(__file__).resolve().parents[2].parent / "shared" / "unimal"

# Offsets of the dynamic fields inside the 52 proprioceptive values.
_BODY_DYNAMIC = L.PROPRIOCEPTIVE.slice("position").start
assert L.PROPRIOCEPTIVE.slice("orientation").stop - _BODY_DYNAMIC == 13
JX_ANGLE = L.PROPRIOCEPTIVE.slice("joint_x_angle").start
JX_VEL = L.PROPRIOCEPTIVE.slice("joint_x_velocity").start
JY_ANGLE = L.PROPRIOCEPTIVE.slice("joint_y_angle").start
JY_VEL = L.PROPRIOCEPTIVE.slice("joint_y_velocity").start


@dataclass
class RobotSource:
    """A robot ready for an environment: its standalone MJCF and its context."""

    name: str
    xml: str
    morphology: Any | None  # workbench.morphology.Morphology when available
    path: str | None = None

    def context(self, position: str = "absolute") -> np.ndarray:
        """(12, 53) float32 context features (workbench.morphology.context_features); zeros (with a
        warning) for a robot given as bare MJCF, which has no morphology to describe."""
        if self.morphology is not None:
            out = np.asarray(context_features(self.morphology, position=position), dtype=np.float32)
            assert out.shape == (L.MAX_LIMBS, L.CONTEXT.size), out.shape
            return out
        warnings.warn(f"{self.name}: no morphology, so the context is zeros", RuntimeWarning, stacklevel=2)
        return np.zeros((L.MAX_LIMBS, L.CONTEXT.size), np.float32)


def resolve_robot(robot: Any) -> RobotSource:
    """Turn a Morphology, an XML path or a built-in robot name into a RobotSource."""
    if isinstance(robot, RobotSource):
        return robot
    if hasattr(robot, "to_xml") and hasattr(robot, "name"):
        return RobotSource(name=str(robot.name), xml=robot.to_xml(), morphology=robot)
    if not isinstance(robot, (str, Path)):
        raise WorkbenchError(f"cannot make a robot from {type(robot).__name__}")
    path = Path(robot)
    if path.suffix.lower() == ".xml" or path.exists():
        if not path.is_file():
            raise WorkbenchError("no such robot XML file", path)
        morph = Morphology.from_xml(path)
        return RobotSource(name=morph.name, xml=morph.to_xml(), morphology=morph, path=str(path))
    name = str(robot)
    try:
        morph = load_robot(name)
    except WorkbenchError:
        morph = None
    if morph is not None:
        return RobotSource(name=morph.name, xml=morph.to_xml(), morphology=morph)
    for candidate in sorted(SHARED_UNIMAL.glob(f"*/xml/{name}.xml")):
        return resolve_robot(candidate)
    raise WorkbenchError(f"unknown robot {name!r} (give an XML path or a built-in robot name)")


# ---------------------------------------------------------------------------------------
# World model
# ---------------------------------------------------------------------------------------
FLOOR_CONTYPE, FLOOR_CONAFFINITY = 2, 1  # collides with the robot (1/1), not with other scenery
# MuJoCo arena per MjData (contacts, constraints, stack). Measured peaks on the published
# robots with random actions: ~30 KB on FT / Obstacle, ~650 KB on VT (height-field contacts).
ARENA_BYTES = {"ft": 1024 * 1024, "obstacle": 1024 * 1024, "vt": 8 * 1024 * 1024}


def obstacle_sizes(config: EnvConfig) -> np.ndarray:
    """(num_obstacles, 3) half-sizes of the obstacle boxes, fixed per configuration.

    Boxes are mocap bodies: their placement and heading are drawn per episode from
    the episode's RNG (state, cheap to change); their sizes are drawn once here.
    """
    rng = np.random.default_rng(20240611)
    n = config.num_obstacles
    lo, hi = config.obstacle_footprint
    hlo, hhi = config.obstacle_height
    return np.stack(
        [rng.uniform(lo, hi, n) / 2, rng.uniform(lo, hi, n) / 2, rng.uniform(hlo, hhi, n) / 2], axis=1
    )


def hfield_shape(config: EnvConfig) -> tuple[int, int]:
    """(nrow, ncol) of the VT height field: rows along y, columns along x."""
    res = config.hfield_resolution
    return int(round(config.strip_width / res)) + 1, int(round(config.vt_length / res)) + 1


def visual_stride(config: EnvConfig) -> int:
    """Subsampling of the VT height field drawn by the renderer (1: draw the physics field)."""
    nrow, ncol = hfield_shape(config)
    stride = max(1, int(config.vt_render_stride))
    return stride if (nrow - 1) % stride == 0 and (ncol - 1) % stride == 0 else 1


def write_terrain(model: mujoco.MjModel, heights: np.ndarray, config: EnvConfig, visual: bool = True) -> None:
    """Write a VT height grid (nrow, ncol) in metres into ``model``'s height field (and
    into the renderer's coarser copy unless ``visual`` is False)."""
    scale = 1.0 / config.vt_max_height
    fields = [("terrain", 1)] + ([("terrain_visual", visual_stride(config))] if visual else [])
    for name, stride in fields:
        try:
            h = model.hfield(name)
        except KeyError:
            continue
        n = int(h.nrow[0] * h.ncol[0])
        adr = int(h.adr[0])
        model.hfield_data[adr : adr + n] = (heights[::stride, ::stride] * scale).ravel()


def build_world_spec(source: RobotSource, task: str, config: EnvConfig) -> mujoco.MjSpec:
    """The robot's MJCF plus the task's floor / terrain / obstacles, as an MjSpec."""
    try:
        spec = mujoco.MjSpec.from_string(_prune_unused_assets(source.xml))
    except Exception as error:  # mujoco raises ValueError with the parser message
        raise WorkbenchError(f"invalid MJCF: {str(error).splitlines()[0]}", source.path or source.name) from None
    for actuator in spec.actuators:  # the env relies on MuJoCo clamping controls to [-1, 1]
        actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        actuator.ctrlrange = [-1.0, 1.0]
    for sensor in list(spec.sensors):  # unused by the workbench; they cost time every substep
        spec.delete(sensor)
    spec.option.timestep = config.timestep
    # The published robots are simulated with parent filtering on (the files say disable).
    spec.option.disableflags = int(spec.option.disableflags) & ~int(mujoco.mjtDisableBit.mjDSBL_FILTERPARENT)
    spec.njmax = -1
    spec.nconmax = -1
    spec.memory = ARENA_BYTES[task]
    spec.modelname = f"{source.name}-{task}"

    spec.add_texture(
        name="wb_grid",
        type=mujoco.mjtTexture.mjTEXTURE_2D,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        rgb1=[0.20, 0.30, 0.40],
        rgb2=[0.10, 0.20, 0.30],
        mark=mujoco.mjtMark.mjMARK_EDGE,
        markrgb=[0.8, 0.8, 0.8],
        width=128,
        height=128,
    )
    if not any(t.type == mujoco.mjtTexture.mjTEXTURE_SKYBOX for t in spec.textures):
        spec.add_texture(
            name="wb_sky",
            type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
            builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT,
            rgb1=[0.55, 0.70, 0.90],
            rgb2=[0.95, 0.97, 1.00],
            width=64,
            height=64,
        )
    spec.add_material(name="wb_floor", textures=["", "wb_grid"], texrepeat=[1, 1], texuniform=True, reflectance=0.0)
    spec.add_material(name="wb_obstacle", rgba=[0.55, 0.55, 0.6, 1.0])
    world = spec.worldbody
    half_width = config.strip_width / 2
    if task == "vt":
        nrow, ncol = hfield_shape(config)
        length = config.vt_length
        spec.add_hfield(
            name="terrain",
            nrow=nrow,
            ncol=ncol,
            size=[length / 2, half_width, config.vt_max_height, 0.5],
            userdata=[0.0] * (nrow * ncol),
        )
        stride = visual_stride(config)
        world.add_geom(
            name="floor",
            type=mujoco.mjtGeom.mjGEOM_HFIELD,
            hfieldname="terrain",
            pos=[config.strip_start + length / 2, 0.0, 0.0],
            material="wb_floor",
            contype=FLOOR_CONTYPE,
            conaffinity=FLOOR_CONAFFINITY,
            group=3 if stride > 1 else 0,  # hidden when a coarser copy is drawn instead
        )
        if stride > 1:
            # A coarser copy of the terrain for the renderer only (no collisions): the full
            # 0.1 m field has ~440k vertices, slow to draw on a CPU.
            spec.add_hfield(
                name="terrain_visual",
                nrow=(nrow - 1) // stride + 1,
                ncol=(ncol - 1) // stride + 1,
                size=[length / 2, half_width, config.vt_max_height, 0.5],
                userdata=[0.0] * (((nrow - 1) // stride + 1) * ((ncol - 1) // stride + 1)),
            )
            world.add_geom(
                name="floor_visual",
                type=mujoco.mjtGeom.mjGEOM_HFIELD,
                hfieldname="terrain_visual",
                pos=[config.strip_start + length / 2, 0.0, 0.0],
                material="wb_floor",
                contype=0,
                conaffinity=0,
            )
    else:
        if task == "ft":
            size, pos = [50.0, 50.0, 0.1], [0.0, 0.0, 0.0]
        else:
            length = config.obstacle_length
            size, pos = [length / 2, half_width, 0.1], [config.strip_start + length / 2, 0.0, 0.0]
        world.add_geom(
            name="floor",
            type=mujoco.mjtGeom.mjGEOM_PLANE,
            size=size,
            pos=pos,
            material="wb_floor",
            contype=FLOOR_CONTYPE,
            conaffinity=FLOOR_CONAFFINITY,
        )
    if task == "obstacle":
        for k, half in enumerate(obstacle_sizes(config)):
            body = world.add_body(name=f"obstacle/{k}", mocap=True, pos=[config.strip_start - 5.0 - 3 * k, 0, 0])
            body.add_geom(
                name=f"obstacle/{k}",
                type=mujoco.mjtGeom.mjGEOM_BOX,
                size=list(half),
                pos=[0.0, 0.0, half[2]],
                material="wb_obstacle",
                contype=FLOOR_CONTYPE,
                conaffinity=FLOOR_CONAFFINITY,
            )
    return spec


def _prune_unused_assets(xml: str) -> str:
    """Drop materials nothing uses and textures no material uses (the published files
    carry ~1.5 MB of unused textures per robot; a vector env holds one model per robot).
    Done on the XML text: deleting assets from an MjSpec is not reliable in mujoco 4.0."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return xml  # let MuJoCo report the problem
    used_materials = {e.get("material") for e in root.iter() if e.tag != "material" and e.get("material")}
    removed = False
    for asset in root.iter("asset"):
        for material in list(asset.findall("material")):
            if material.get("name") not in used_materials:
                asset.remove(material)
                removed = True
    used_textures = {e.get("texture") for e in root.iter("material") if e.get("texture")}
    for asset in root.iter("asset"):
        for texture in list(asset.findall("texture")):
            if texture.get("type") != "skybox" and texture.get("name") not in used_textures:
                asset.remove(texture)
                removed = True
    return ET.tostring(root, encoding="unicode") if removed else xml


def compile_world(source: RobotSource, task: str, config: EnvConfig) -> mujoco.MjModel:
    spec = build_world_spec(source, task, config)
    try:
        return spec.compile()
    except Exception as error:
        raise WorkbenchError(f"does not compile: {str(error).splitlines()[0]}", source.path or source.name) from None


# ---------------------------------------------------------------------------------------
# Index tables
# ---------------------------------------------------------------------------------------
@dataclass
class RobotTables:
    """Per-robot constants the (batched) observation code gathers with.

    All indices refer to the compiled world model. Slot i is robot body i in MuJoCo
    body order (depth-first pre-order, torso first).
    """

    name: str
    body_ids: np.ndarray  # (nb,) model body ids of the robot's bodies, slot order
    body_names: list[str]
    torso_id: int
    root_qpos: int  # qpos address of the torso's free joint (x, y, z, qw, qx, qy, qz)
    root_dof: int
    joint_slot: np.ndarray  # (nj,) padded joint slot (0..23) of each real hinge joint
    joint_qpos: np.ndarray  # (nj,) qpos address
    joint_dof: np.ndarray  # (nj,) dof address
    joint_low: np.ndarray  # (nj,) radians
    joint_span: np.ndarray  # (nj,) high - low (radians)
    ctrl_slot: np.ndarray  # (nu,) padded action slot of each actuator
    static_obs: np.ndarray  # (12, 52) float32: static fields filled, dynamic fields zero
    limb_mask: np.ndarray  # (12,) float32
    action_mask: np.ndarray  # (24,) float32
    init_height: float  # torso height above the floor at reset (qpos0)
    qpos0: np.ndarray
    nq: int
    nv: int
    nu: int

    @property
    def num_bodies(self) -> int:
        return len(self.body_ids)

    @property
    def num_joints(self) -> int:
        return len(self.joint_slot)


def _joint_axis_of(name: str, order: int) -> int:
    if name.startswith("limbx"):
        return 0
    if name.startswith("limby"):
        return 1
    return order


def build_tables(model: mujoco.MjModel, name: str) -> RobotTables:
    try:
        torso_id = model.body(TORSO).id
    except KeyError:
        raise WorkbenchError("no torso body 'torso/0'", name) from None
    body_ids = np.array([b for b in range(model.nbody) if _is_descendant(model, b, torso_id)])
    nb = len(body_ids)
    if nb > L.MAX_LIMBS:
        raise WorkbenchError(f"{nb} bodies, more than the {L.MAX_LIMBS} the observation pads to", name)
    slot_of_body = {int(b): i for i, b in enumerate(body_ids)}
    root_joint = model.body_jntadr[torso_id]
    if root_joint < 0 or model.jnt_type[root_joint] != mujoco.mjtJoint.mjJNT_FREE:
        raise WorkbenchError("the torso has no free joint", name)
    root_qpos = int(model.jnt_qposadr[root_joint])
    root_dof = int(model.jnt_dofadr[root_joint])

    static = np.zeros((L.MAX_LIMBS, L.PROPRIOCEPTIVE.size), np.float64)
    P = L.PROPRIOCEPTIVE
    for slot, b in enumerate(body_ids):
        static[slot, P.slice("body_pos")] = model.body_pos[b]
        static[slot, P.slice("inertial_pos")] = model.body_ipos[b]
        static[slot, P.slice("inertial_quat")] = model.body_iquat[b]
        static[slot, P.slice("mass")] = model.body_mass[b]
        if model.body_geomnum[b] > 0:
            g = model.body_geomadr[b]
            static[slot, P.slice("geom_quat")] = model.geom_quat[g]
            if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_SPHERE:
                static[slot, P.slice("shape")] = (model.geom_size[g][0], 0.0)
            else:
                static[slot, P.slice("shape")] = model.geom_size[g][:2]

    joint_slot, joint_qpos, joint_dof, low, span = [], [], [], [], []
    slot_of_joint: dict[int, int] = {}
    per_body_order: dict[int, int] = {}
    for j in range(model.njnt):
        b = int(model.jnt_bodyid[j])
        if b not in slot_of_body or b == torso_id:
            continue
        if model.jnt_type[j] != mujoco.mjtJoint.mjJNT_HINGE:
            raise WorkbenchError(f"joint {model.joint(j).name!r} is not a hinge", name)
        order = per_body_order.get(b, 0)
        per_body_order[b] = order + 1
        axis = _joint_axis_of(model.joint(j).name, order)
        if order > 1:
            raise WorkbenchError(f"body {model.body(b).name!r} has more than two joints", name)
        slot = L.action_slot(slot_of_body[b], "xy"[axis])
        if slot in slot_of_joint.values():
            raise WorkbenchError(f"body {model.body(b).name!r} has two {'xy'[axis]} joints", name)
        slot_of_joint[j] = slot
        lo, hi = model.jnt_range[j] if model.jnt_limited[j] else (-np.pi, np.pi)
        joint_slot.append(slot)
        joint_qpos.append(model.jnt_qposadr[j])
        joint_dof.append(model.jnt_dofadr[j])
        low.append(lo)
        span.append(max(hi - lo, 1e-6))
        prefix = "joint_x" if axis == 0 else "joint_y"
        s = slot_of_body[b]
        static[s, P.slice(f"{prefix}_anchor")] = model.jnt_pos[j]
        static[s, P.slice(f"{prefix}_range")] = (lo, hi)
        static[s, P.slice(f"{prefix}_axis")] = model.jnt_axis[j]

    ctrl_slot = np.zeros(model.nu, np.int64)
    action_mask = np.zeros(L.ACTION_DIM, np.float32)
    for a in range(model.nu):
        if model.actuator_trntype[a] != mujoco.mjtTrn.mjTRN_JOINT:
            raise WorkbenchError(f"actuator {model.actuator(a).name!r} does not drive a joint", name)
        j = int(model.actuator_trnid[a, 0])
        if j not in slot_of_joint:
            raise WorkbenchError(f"actuator {model.actuator(a).name!r} drives no limb joint", name)
        slot = slot_of_joint[j]
        ctrl_slot[a] = slot
        action_mask[slot] = 1.0
        limb, axis = divmod(slot, L.JOINTS_PER_LIMB)
        prefix = "joint_x" if axis == 0 else "joint_y"
        static[limb, P.slice(f"{prefix}_gear")] = model.actuator_gear[a, 0]
    if len(set(ctrl_slot.tolist())) != model.nu:
        raise WorkbenchError("two motors drive the same joint", name)

    limb_mask = np.zeros(L.MAX_LIMBS, np.float32)
    limb_mask[:nb] = 1.0
    return RobotTables(
        name=name,
        body_ids=body_ids.astype(np.int64),
        body_names=[model.body(int(b)).name for b in body_ids],
        torso_id=int(torso_id),
        root_qpos=root_qpos,
        root_dof=root_dof,
        joint_slot=np.asarray(joint_slot, np.int64),
        joint_qpos=np.asarray(joint_qpos, np.int64),
        joint_dof=np.asarray(joint_dof, np.int64),
        joint_low=np.asarray(low, np.float64),
        joint_span=np.asarray(span, np.float64),
        ctrl_slot=ctrl_slot,
        static_obs=static.astype(np.float32),
        limb_mask=limb_mask,
        action_mask=action_mask,
        init_height=float(model.qpos0[root_qpos + 2]),
        qpos0=model.qpos0.copy(),
        nq=model.nq,
        nv=model.nv,
        nu=model.nu,
    )


def _is_descendant(model: mujoco.MjModel, body: int, ancestor: int) -> bool:
    while body > 0:
        if body == ancestor:
            return True
        body = int(model.body_parentid[body])
    return False


@dataclass
class CompiledRobot:
    """A robot compiled into a task's world, with its tables and context."""

    source: RobotSource
    task: str
    config: EnvConfig
    model: mujoco.MjModel
    tables: RobotTables
    context: np.ndarray  # (12, 53) float32

    @property
    def name(self) -> str:
        return self.source.name


def compile_robot(robot: Any, task: str, config: EnvConfig) -> CompiledRobot:
    source = resolve_robot(robot)
    model = compile_world(source, task, config)
    tables = build_tables(model, source.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if source.morphology is None else "default")
        context = source.context(config.context_position)
    return CompiledRobot(source=source, task=task, config=config, model=model, tables=tables, context=context)
