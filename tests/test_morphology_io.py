"""Reading every published UNIMAL robot, writing MJCF, and the exact round trip."""

from __future__ import annotations

import json

import mujoco
import numpy as np
import pytest

from workbench.errors import WorkbenchError
from workbench.morphology import Morphology, generate_robot, load_robots
from workbench.morphology.model import JOINT_RANGES

FLOOR = '<geom name="floor" type="plane" size="50 50 1" condim="3"/>'


def _all_files(unimal_dir):
    files = sorted(unimal_dir.glob("*/xml/*.xml"))
    assert len(files) == 1202
    return files


def _with_floor(xml: str) -> str:
    return xml.replace("<worldbody>", "<worldbody>" + FLOOR, 1)


def _published_effective(path) -> str:
    """The published file as the published environments load it: filterparent forced on."""
    text = path.read_text()
    assert 'filterparent="disable"' in text
    return text.replace('filterparent="disable"', 'filterparent="enable"')


def test_every_published_robot_loads_and_compiles(unimal_dir):
    ranges = set()
    for path in _all_files(unimal_dir):
        morph = Morphology.from_xml(path)
        meta = json.loads((path.parent.parent / "metadata" / f"{path.stem}.json").read_text())
        assert morph.num_limbs == meta["num_limbs"], path
        assert morph.num_joints == meta["dof"], path
        assert morph.name == path.stem
        model = mujoco.MjModel.from_xml_string(morph.to_xml())
        assert model.nbody == morph.num_bodies + 1  # + world
        assert model.nu == morph.num_joints
        assert [model.body(i).name for i in range(1, model.nbody)] == morph.body_names()
        for limb in morph.limbs:
            for _, joint in limb.joints:
                ranges.add(joint.range)
    # the 13 design-space range pairs are exactly the ones used by the published robots
    assert ranges == set(JOINT_RANGES)


def _simulate(model: mujoco.MjModel, controls_by_name: dict[str, np.ndarray], steps: int) -> dict[str, np.ndarray]:
    data = mujoco.MjData(model)
    order = [controls_by_name[model.actuator(i).name] for i in range(model.nu)]
    controls = np.stack(order, axis=1) if order else np.zeros((steps, 0))
    for t in range(steps):
        data.ctrl[:] = controls[t]
        mujoco.mj_step(model, data)
    out = {}
    for j in range(model.njnt):
        adr = model.jnt_qposadr[j]
        width = 7 if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE else 1
        out[model.joint(j).name] = data.qpos[adr : adr + width].copy()
    return out


def _assert_same_simulation(xml_a: str, xml_b: str, steps: int = 300, seed: int = 0) -> None:
    a = mujoco.MjModel.from_xml_string(_with_floor(xml_a))
    b = mujoco.MjModel.from_xml_string(_with_floor(xml_b))
    assert a.nu == b.nu and a.njnt == b.njnt
    rng = np.random.default_rng(seed)
    controls = {a.actuator(i).name: rng.uniform(-1, 1, steps) for i in range(a.nu)}
    qa = _simulate(a, controls, steps)
    qb = _simulate(b, controls, steps)
    assert qa.keys() == qb.keys()
    moved = 0.0
    for name in qa:
        np.testing.assert_allclose(qa[name], qb[name], rtol=0, atol=1e-9, err_msg=name)
        moved = max(moved, float(np.abs(qa[name]).max()))
    assert moved > 0.0  # the robot did move


def test_round_trip_gives_the_same_simulation(unimal_dir):
    files = _all_files(unimal_dir)
    for path in files[::30]:  # 41 robots from all three sets
        morph = Morphology.from_xml(path)
        written = morph.to_xml()
        again = Morphology.from_xml_string(written, name=morph.name)
        assert again.torso == morph.torso and again.limbs == morph.limbs
        assert again.contact_excludes == morph.contact_excludes
        _assert_same_simulation(_published_effective(path), written)
        _assert_same_simulation(written, again.to_xml())


def test_round_trip_of_a_generated_robot(tmp_path):
    morph = generate_robot(7)
    path = morph.save(tmp_path / "xml" / "robot.xml")
    assert (tmp_path / "metadata" / "robot.json").is_file()
    again = Morphology.from_xml(path)
    assert again == morph.with_name("robot")
    _assert_same_simulation(morph.to_xml(), again.to_xml())


def test_writer_emits_effective_settings():
    xml = generate_robot(1).to_xml()
    model = mujoco.MjModel.from_xml_string(xml)
    assert model.opt.timestep == pytest.approx(0.005)
    assert not (model.opt.disableflags & mujoco.mjtDisableBit.mjDSBL_FILTERPARENT)
    np.testing.assert_allclose(model.geom_friction, np.tile([0.7, 0.1, 0.1], (model.ngeom, 1)))
    assert set(model.geom_condim) == {3}
    assert model.nlight >= 1 and model.nmat >= 1  # renders
    assert "plane" not in xml  # no floor: the environment adds terrain
    jnt = [j for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE]
    np.testing.assert_allclose(model.dof_damping[model.jnt_dofadr[jnt]], 1.0)
    np.testing.assert_allclose(model.jnt_stiffness[jnt], 1.0)
    np.testing.assert_allclose(model.dof_armature[model.jnt_dofadr[jnt]], 1.0)
    assert all(model.jnt_limited[jnt])
    np.testing.assert_allclose(model.actuator_ctrlrange, np.tile([-1.0, 1.0], (model.nu, 1)))


def test_metadata_and_mutations_saved(tmp_path, unimal_dir):
    src = next(iter(sorted((unimal_dir / "train_mutate_1000" / "xml").glob("*.xml"))))
    morph = Morphology.from_xml(src)
    saved = morph.save(tmp_path / "r.xml", extra_metadata={"note": "x"})
    meta = json.loads((tmp_path / "r.json").read_text())
    assert meta["num_limbs"] == morph.num_limbs and meta["dof"] == morph.num_joints
    assert meta["symmetric_limbs"] == [list(p) for p in morph.symmetric_pairs]
    assert Morphology.from_xml(saved).symmetric_pairs == morph.symmetric_pairs


def test_symmetry_inferred_without_metadata(unimal_dir):
    for path in sorted((unimal_dir / "train" / "xml").glob("*.xml"))[:20]:
        with_meta = Morphology.from_xml(path)
        without = Morphology.from_xml_string(path.read_text(), name=path.stem)
        assert {frozenset(p) for p in without.symmetric_pairs} == {frozenset(p) for p in with_meta.symmetric_pairs}


def test_structure_accessors(unimal_dir):
    morph = Morphology.from_xml(unimal_dir / "train" / "xml" / "floor-1409-0-12-01-12-30-07.xml")
    assert morph.body_names()[:3] == ["torso/0", "limb/0", "limb/15"]
    assert morph.num_limbs == 8 and morph.num_joints == 11
    slots = morph.joint_slots()
    assert slots[0] == (None, None)
    assert slots[1] == (None, "limby/0")
    assert slots[2] == ("limbx/15", "limby/15")
    assert morph.symmetric_pairs == ((13, 14), (16, 17))
    assert morph.contact_excludes == (("limb/13", "limb/14"),)
    limb = morph.limb(15)
    assert limb.parent == 0 and limb.joint_x.gear == 300 and limb.joint_y.range == (-60.0, 30.0)
    assert limb.length == pytest.approx(0.45)


def test_load_robots_specs(unimal_dir, tmp_path):
    train = unimal_dir / "train"
    assert len(load_robots(train)) == 100  # UNIMAL layout: DIR/xml/*.xml
    assert len(load_robots(str(train / "xml"))) == 100
    one = sorted((train / "xml").glob("*.xml"))[0]
    assert len(load_robots(one)) == 1
    mixed = load_robots([one, "gen-test-004", "generated-train"])
    assert len(mixed) == 102 and mixed[1].name == "gen-test-004"
    with pytest.raises(WorkbenchError, match="no such file"):
        load_robots(tmp_path / "missing.xml")
    with pytest.raises(WorkbenchError, match="built-in"):
        load_robots("generated-nothing")
    (tmp_path / "bad.xml").write_text("<mujoco>")
    with pytest.raises(WorkbenchError, match="bad.xml: malformed XML"):
        load_robots(tmp_path)
