"""Write a :class:`Morphology` as standalone MJCF (the robot alone, no floor).

Numbers are written with ``repr`` (shortest round-trip form), so reading the
output back gives the very same doubles and the very same simulation. The
published files say ``filterparent="disable"`` but the published environments
force it on at load time; the writer emits the effective setting (enabled).
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench.morphology.model import (
    CONDIM,
    FRICTION,
    JOINT_ARMATURE,
    JOINT_DAMPING,
    JOINT_SOLIMPLIMIT,
    JOINT_STIFFNESS,
    TIMESTEP,
    TORSO_NAME,
    Limb,
    Morphology,
)


def _f(x: float) -> str:
    x = float(x)
    if x == int(x) and abs(x) < 1e15 and not (x == 0 and str(x).startswith("-")):
        return str(int(x))
    return repr(x)


def _v(values) -> str:
    return " ".join(_f(v) for v in values)


_HEADER = f"""<mujoco model="{{name}}">
  <compiler angle="degree" inertiafromgeom="true"/>
  <option timestep="{_f(TIMESTEP)}">
    <flag filterparent="enable"/>
  </option>
  <default>
    <motor ctrlrange="-1 1" ctrllimited="true"/>
    <default class="normal_joint">
      <joint type="hinge" damping="{_f(JOINT_DAMPING)}" stiffness="{_f(JOINT_STIFFNESS)}" armature="{_f(JOINT_ARMATURE)}" limited="true" solimplimit="{_v(JOINT_SOLIMPLIMIT)}"/>
    </default>
    <default class="free">
      <joint limited="false" damping="0" armature="0" stiffness="0"/>
    </default>
    <geom type="capsule" condim="{CONDIM}" friction="{_v(FRICTION)}" material="self"/>
  </default>
  <asset>
    <material name="self" rgba=".7 .5 .3 1"/>
  </asset>
  <visual>
    <headlight ambient=".4 .4 .4" diffuse=".8 .8 .8" specular="0.1 0.1 0.1"/>
    <map znear=".01"/>
    <quality shadowsize="2048"/>
  </visual>
  <worldbody>
    <light name="robot_light" diffuse="1 1 1" directional="true" pos="0 0 1" specular=".1 .1 .1"/>
"""


def _joint_xml(name: str, joint, indent: str) -> str:
    return (
        f'{indent}<joint name="{name}" type="hinge" class="normal_joint" range="{_v(joint.range)}" '
        f'pos="{_v(joint.pos)}" axis="{_v(joint.axis)}"/>\n'
    )


def write_xml(morph: Morphology, camera: bool = True) -> str:
    """Standalone MJCF of the robot alone (compiles with ``mujoco.MjModel.from_xml_string``)."""
    parts = [_HEADER.replace("{name}", _escape(morph.name))]
    t = morph.torso
    parts.append(f'    <body name="{TORSO_NAME}" pos="{_v(t.pos)}">\n')
    parts.append('      <joint name="root" type="free" class="free"/>\n')
    parts.append(f'      <geom name="{TORSO_NAME}" type="sphere" size="{_f(t.radius)}" density="{_f(t.density)}"/>\n')
    if camera:
        parts.append('      <camera name="side" pos="0 -7 2" xyaxes="1 0 0 0 1 2" mode="trackcom"/>\n')

    children: dict[int | None, list[Limb]] = {}
    for limb in morph.limbs:
        children.setdefault(limb.parent, []).append(limb)

    def emit(limb: Limb, depth: int) -> None:
        ind = "  " * depth
        parts.append(f'{ind}<body name="{limb.name}" pos="{_v(limb.pos)}">\n')
        inner = ind + "  "
        if limb.joint_x is not None:
            parts.append(_joint_xml(f"limbx/{limb.id}", limb.joint_x, inner))
        if limb.joint_y is not None:
            parts.append(_joint_xml(f"limby/{limb.id}", limb.joint_y, inner))
        parts.append(
            f'{inner}<geom name="{limb.name}" type="capsule" fromto="{_v(limb.fromto)}" '
            f'size="{_f(limb.radius)}" density="{_f(limb.density)}"/>\n'
        )
        for child in children.get(limb.id, ()):
            emit(child, depth + 1)
        parts.append(f"{ind}</body>\n")

    for limb in children.get(None, ()):
        emit(limb, 3)
    parts.append("    </body>\n  </worldbody>\n  <actuator>\n")
    for limb in morph.limbs:
        for jname, joint in limb.joints:
            parts.append(f'    <motor name="{jname}" joint="{jname}" gear="{_f(joint.gear)}"/>\n')
    parts.append("  </actuator>\n")
    if morph.contact_excludes:
        parts.append("  <contact>\n")
        for b1, b2 in morph.contact_excludes:
            parts.append(f'    <exclude name="{b1}:{b2}" body1="{b1}" body2="{b2}"/>\n')
        parts.append("  </contact>\n")
    parts.append("</mujoco>\n")
    return "".join(parts)


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def save(morph: Morphology, path: str | Path, extra_metadata: dict | None = None) -> Path:
    """Write ``path`` (XML) and its metadata JSON in the UNIMAL layout.

    When ``path``'s folder is called ``xml`` the JSON goes to ``../metadata/NAME.json``
    (the published layout); otherwise beside the XML as ``NAME.json``.
    """
    path = Path(path)
    if path.suffix != ".xml":
        path = path.with_suffix(".xml")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.parent.name == "xml":
        meta_path = path.parent.parent / "metadata" / (path.stem + ".json")
    else:
        meta_path = path.with_suffix(".json")
    meta_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".xml.tmp")
    tmp.write_text(morph.to_xml())
    tmp.replace(path)
    meta = morph.metadata_dict()
    if extra_metadata:
        meta.update(extra_metadata)
    tmp = meta_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=2) + "\n")
    tmp.replace(meta_path)
    return path
