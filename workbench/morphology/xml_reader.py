"""Read UNIMAL MJCF files into :class:`Morphology` (strict, one-line errors)."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from workbench.morphology.encoding import MAX_LIMBS, MAX_MOTORS
from workbench.errors import WorkbenchError
from workbench.morphology.model import (
    TORSO_NAME,
    Joint,
    Limb,
    Morphology,
    Torso,
)

_LIMB_RE = re.compile(r"^limb/(\d+)$")
_JOINT_RE = re.compile(r"^limb([xy])/(\d+)$")


class _Invalid(Exception):
    """Internal: a problem with the file, turned into a WorkbenchError by the caller."""


def _floats(text: str | None, n: int, what: str) -> tuple[float, ...]:
    if text is None:
        raise _Invalid(f"{what} is missing")
    try:
        values = tuple(float(x) for x in text.split())
    except ValueError:
        raise _Invalid(f"{what} is not numeric: {text!r}") from None
    if len(values) != n:
        raise _Invalid(f"{what} needs {n} numbers, got {len(values)}")
    if not all(math.isfinite(v) for v in values):
        raise _Invalid(f"{what} is not finite: {text!r}")
    return values


def _positive(value: float, what: str) -> float:
    """Sizes, masses, densities and gears must be > 0: MuJoCo would accept some and simulate nonsense."""
    if value <= 0:
        raise _Invalid(f"{what} must be positive, got {value:g}")
    return value


def _float(text: str | None, what: str, default: float | None = None) -> float:
    if text is None:
        if default is None:
            raise _Invalid(f"{what} is missing")
        return default
    return _floats(text, 1, what)[0]


def _default_density(root: ET.Element) -> float:
    for geom in root.findall("default/geom"):
        if geom.get("density") is not None:
            return _positive(_float(geom.get("density"), "default geom density"), "default geom density")
    return 1000.0  # MuJoCo's default


def _parse_limb(body: ET.Element, parent: int | None, default_density: float) -> Limb:
    name = body.get("name", "")
    match = _LIMB_RE.match(name)
    if not match:
        raise _Invalid(f"body {name!r} is not a UNIMAL limb (expected 'limb/<k>')")
    limb_id = int(match.group(1))
    pos = _floats(body.get("pos", "0 0 0"), 3, f"pos of {name}")
    if body.get("quat") or body.get("euler") or body.get("axisangle") or body.get("xyaxes") or body.get("zaxis"):
        raise _Invalid(f"body {name} is rotated; UNIMAL limbs are not")
    geoms = body.findall("geom")
    if len(geoms) != 1:
        raise _Invalid(f"body {name} has {len(geoms)} geoms, expected one capsule")
    geom = geoms[0]
    if geom.get("type", "capsule") != "capsule" or geom.get("fromto") is None:
        raise _Invalid(f"geom of {name} is not a capsule given by fromto")
    fromto = _floats(geom.get("fromto"), 6, f"fromto of {name}")
    radius = _floats(geom.get("size"), 1, f"size of {name}")[0] if geom.get("size") else None
    if radius is None:
        raise _Invalid(f"geom of {name} has no size (radius)")
    _positive(radius, f"size of {name}")
    if fromto[:3] == fromto[3:]:
        raise _Invalid(f"fromto of {name} has zero length: {geom.get('fromto')!r}")
    density = _positive(_float(geom.get("density"), f"density of {name}", default_density), f"density of {name}")
    joints: dict[str, Joint] = {}
    for joint in body.findall("joint"):
        jname = joint.get("name", "")
        jmatch = _JOINT_RE.match(jname)
        if not jmatch or int(jmatch.group(2)) != limb_id:
            raise _Invalid(f"unknown joint {jname!r} in body {name} (expected limbx/{limb_id} or limby/{limb_id})")
        if joint.get("type", "hinge") != "hinge":
            raise _Invalid(f"joint {jname} is not a hinge")
        kind = jmatch.group(1)
        if kind in joints:
            raise _Invalid(f"joint {jname} appears twice")
        rng = _floats(joint.get("range"), 2, f"range of {jname}")
        if rng[0] >= rng[1]:
            raise _Invalid(f"range of {jname} is inverted or empty: {joint.get('range')!r}")
        joints[kind] = Joint(
            axis=_floats(joint.get("axis", "0 0 1"), 3, f"axis of {jname}"),  # type: ignore[arg-type]
            range=rng,  # type: ignore[arg-type]
            gear=0.0,  # filled from the actuator section
            pos=_floats(joint.get("pos", "0 0 0"), 3, f"pos of {jname}"),  # type: ignore[arg-type]
        )
    if not joints:
        raise _Invalid(f"limb {name} has no joint")
    return Limb(
        id=limb_id,
        parent=parent,
        pos=pos,  # type: ignore[arg-type]
        fromto=fromto,  # type: ignore[arg-type]
        density=density,
        joint_x=joints.get("x"),
        joint_y=joints.get("y"),
        radius=radius,
    )


def parse_root(root: ET.Element, name: str, metadata: dict[str, Any] | None = None) -> Morphology:
    """Build a Morphology from a parsed MJCF tree; raises _Invalid."""
    if root.tag != "mujoco":
        raise _Invalid(f"not an MJCF file (root element <{root.tag}>)")
    worldbody = root.find("worldbody")
    if worldbody is None:
        raise _Invalid("not a UNIMAL robot: no <worldbody>")
    torso_el = None
    for body in worldbody.findall("body"):
        if body.get("name") == TORSO_NAME:
            torso_el = body
        else:
            raise _Invalid(f"not a UNIMAL robot: extra top-level body {body.get('name')!r}")
    if torso_el is None:
        raise _Invalid(f"not a UNIMAL robot: no torso body {TORSO_NAME!r}")
    free = [j for j in torso_el.findall("joint") if j.get("type") == "free"] + torso_el.findall("freejoint")
    if not free:
        raise _Invalid("not a UNIMAL robot: the torso has no free joint")
    others = [j for j in torso_el.findall("joint") if j.get("type") != "free"]
    if others:
        raise _Invalid(f"unknown joint {others[0].get('name')!r} on the torso")
    sphere = [g for g in torso_el.findall("geom") if g.get("type") == "sphere"]
    if len(sphere) != 1:
        raise _Invalid("not a UNIMAL robot: the torso has no sphere geom")
    default_density = _default_density(root)
    torso = Torso(
        density=_float(sphere[0].get("density"), "torso density", default_density),
        pos=_floats(torso_el.get("pos", "0 0 0"), 3, "torso pos"),  # type: ignore[arg-type]
        radius=_floats(sphere[0].get("size"), 1, "torso size")[0] if sphere[0].get("size") else 0.1,
    )

    limbs: list[Limb] = []
    stack: list[tuple[ET.Element, int | None]] = [(b, None) for b in reversed(torso_el.findall("body"))]
    while stack:  # depth-first pre-order, children in document order
        body, parent = stack.pop()
        limb = _parse_limb(body, parent, default_density)
        limbs.append(limb)
        stack.extend((child, limb.id) for child in reversed(body.findall("body")))
    ids = [lb.id for lb in limbs]
    if len(set(ids)) != len(ids):
        raise _Invalid("duplicate limb names")
    if len(limbs) + 1 > MAX_LIMBS:
        raise _Invalid(f"too many limbs: {len(limbs) + 1} bodies (at most {MAX_LIMBS}, torso included)")

    # Motors: every limb joint has exactly one motor; no motor drives a missing joint.
    gears: dict[str, float] = {}
    joint_names = {f"limb{k}/{lb.id}" for lb in limbs for k, j in (("x", lb.joint_x), ("y", lb.joint_y)) if j}
    actuator = root.find("actuator")
    motors = list(actuator) if actuator is not None else []
    for motor in motors:
        if motor.tag is ET.Comment or not isinstance(motor.tag, str):
            continue
        if motor.tag != "motor":
            raise _Invalid(f"unsupported actuator <{motor.tag}> (UNIMAL robots use motors)")
        target = motor.get("joint")
        if target not in joint_names:
            raise _Invalid(f"motor {motor.get('name', '?')!r} drives unknown joint {target!r}")
        if target in gears:
            raise _Invalid(f"joint {target} has two motors")
        gears[target] = _positive(_float(motor.get("gear"), f"gear of motor {target}", 1.0), f"gear of motor {target}")
    if len(gears) > MAX_MOTORS:
        raise _Invalid(f"too many motors: {len(gears)} (at most {MAX_MOTORS})")
    missing = sorted(joint_names - set(gears))
    if missing:
        raise _Invalid(f"joint {missing[0]} has no motor")

    def with_gear(limb: Limb) -> Limb:
        jx = limb.joint_x
        jy = limb.joint_y
        if jx is not None:
            jx = Joint(jx.axis, jx.range, gears[f"limbx/{limb.id}"], jx.pos)
        if jy is not None:
            jy = Joint(jy.axis, jy.range, gears[f"limby/{limb.id}"], jy.pos)
        return Limb(limb.id, limb.parent, limb.pos, limb.fromto, limb.density, jx, jy, limb.radius)

    limbs = [with_gear(lb) for lb in limbs]

    valid_bodies = {TORSO_NAME} | {lb.name for lb in limbs}
    excludes = []
    for exclude in root.findall("contact/exclude"):
        b1, b2 = exclude.get("body1"), exclude.get("body2")
        if b1 not in valid_bodies or b2 not in valid_bodies:
            raise _Invalid(f"contact exclude names unknown body {b1 if b1 not in valid_bodies else b2!r}")
        excludes.append((b1, b2))

    metadata = dict(metadata or {})
    if "symmetric_limbs" in metadata:
        pairs = []
        for pair in metadata["symmetric_limbs"]:
            a, b = int(pair[0]), int(pair[1])
            if a in ids and b in ids:  # UNIMAL metadata may list deleted limbs; keep real pairs only
                pairs.append((a, b))
        symmetric = tuple(pairs)
    else:
        from workbench.morphology.validation import infer_symmetric_pairs

        morph = Morphology(name=name, torso=torso, limbs=tuple(limbs))
        symmetric = infer_symmetric_pairs(morph)
    mutations = tuple(str(m) for m in metadata.get("mutations", ()))
    extra = {k: v for k, v in metadata.items() if k not in ("symmetric_limbs", "dof", "num_limbs", "mutations")}
    return Morphology(
        name=name,
        torso=torso,
        limbs=tuple(limbs),
        symmetric_pairs=symmetric,
        contact_excludes=tuple(excludes),
        mutations=mutations,
        metadata=extra,
    )


def _parse_text(text: str, label: str) -> ET.Element:
    try:
        return ET.fromstring(text)
    except ET.ParseError as error:
        raise WorkbenchError(f"malformed XML ({error})", label) from None


def read_xml_string(text: str, name: str = "robot", metadata: dict | None = None, label: str | None = None) -> Morphology:
    root = _parse_text(text, label or name)
    try:
        return parse_root(root, name, metadata)
    except _Invalid as error:
        raise WorkbenchError(str(error), label or name) from None


def metadata_path_for(path: Path) -> Path | None:
    """The metadata JSON of a UNIMAL XML: ``../metadata/NAME.json`` or ``NAME.json`` beside it."""
    candidates = [path.with_suffix(".json")]
    if path.parent.name == "xml":
        candidates.insert(0, path.parent.parent / "metadata" / (path.stem + ".json"))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def read_metadata(path: Path) -> dict[str, Any]:
    meta_path = metadata_path_for(path)
    if meta_path is None:
        return {}
    try:
        data = json.loads(meta_path.read_text())
    except (OSError, ValueError) as error:
        raise WorkbenchError(f"unreadable metadata JSON ({error})", meta_path) from None
    if not isinstance(data, dict):
        raise WorkbenchError("metadata JSON is not an object", meta_path)
    return data


def read_xml_file(path: str | Path, name: str | None = None) -> Morphology:
    path = Path(path)
    if not path.exists():
        raise WorkbenchError("no such file", path)
    if path.is_dir():
        raise WorkbenchError("is a directory, expected an XML file", path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise WorkbenchError(f"cannot read file ({error.__class__.__name__})", path) from None
    metadata = read_metadata(path)
    root = _parse_text(text, str(path))
    try:
        morph = parse_root(root, name or path.stem, metadata)
    except _Invalid as error:
        raise WorkbenchError(str(error), path) from None
    object.__setattr__(morph, "source", str(path))
    return morph
