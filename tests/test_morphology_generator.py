"""The generator of new robots and the built-in suites."""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import pytest

from workbench.errors import WorkbenchError
from workbench.morphology import (
    GEAR_CHOICES,
    JOINT_RANGES,
    Morphology,
    builtin_robot,
    builtin_robot_names,
    design_problems,
    fingerprint,
    generate_robot,
    generate_robots,
    load_robot,
    load_robots,
    suite,
)
from workbench.morphology.generator import MAX_TORSO_HEIGHT
from workbench.morphology.geometry import direction, joint_axes
from workbench.morphology.model import DENSITY_CHOICES, LIMB_H_CHOICES


@pytest.fixture(scope="module")
def generated():
    return generate_robots(200, seed=12345)


def _lowest_point_world(morph: Morphology) -> float:
    model = mujoco.MjModel.from_xml_string(morph.to_xml())
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    low = np.inf
    for g in range(model.ngeom):
        r = model.geom_size[g][0]
        if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_SPHERE:
            low = min(low, data.geom_xpos[g][2] - r)
        else:
            axis_z = data.geom_xmat[g].reshape(3, 3)[2, 2]
            low = min(low, data.geom_xpos[g][2] - abs(axis_z) * model.geom_size[g][1] - r)
    return float(low)


def test_generated_robots_are_valid(generated):
    for morph in generated:
        assert design_problems(morph) == [], morph.name  # limits, symmetry, no self-contact (MuJoCo)
        assert morph.num_bodies <= 12 and morph.num_joints <= 16
        assert _lowest_point_world(morph) == pytest.approx(0.2, abs=1e-9)
        assert morph.height <= MAX_TORSO_HEIGHT
        assert morph.torso.density in DENSITY_CHOICES
        assert len({lb.density for lb in morph.limbs}) == 1
        assert morph.limbs[0].density in DENSITY_CHOICES
        for limb in morph.limbs:
            assert limb.radius == 0.05
            # capsule length 0.05 + h (up to the 2-decimal rounding of the coordinates)
            assert min(abs(limb.length - 0.05 - h) for h in LIMB_H_CHOICES) < 0.015
            assert limb.joint_x is not None or limb.joint_y is not None
            for _, joint in limb.joints:
                assert joint.range in JOINT_RANGES
                assert joint.gear in GEAR_CHOICES


def test_generated_sizes_cover_published_training_set(generated, unimal_dir):
    published = load_robots(unimal_dir / "train")
    pub_limbs = [m.num_limbs for m in published]
    pub_dof = [m.num_joints for m in published]
    gen_limbs = [m.num_limbs for m in generated]
    gen_dof = [m.num_joints for m in generated]
    # generator v2 draws the published limb-count histogram: inside its range, reaching both ends
    # (the published set has a single 4-limb robot, so 200 draws may miss that end by one)
    assert min(pub_limbs) <= min(gen_limbs) <= min(pub_limbs) + 1 and max(gen_limbs) == max(pub_limbs)
    assert abs(np.mean(gen_dof) - np.mean(pub_dof)) <= 0.1 * np.mean(pub_dof)


def test_symmetric_pairs_are_mirror_images(generated):
    for morph in generated[:50]:
        absolute = morph.absolute_positions()
        for a, b in morph.symmetric_pairs:
            la, lb = morph.limb(a), morph.limb(b)
            pa, pb = absolute[a], absolute[b]
            assert pa[0] == pytest.approx(pb[0]) and pa[1] == pytest.approx(-pb[1]) and pa[2] == pytest.approx(pb[2])
            assert la.fromto[3] == lb.fromto[3] and la.fromto[4] == -lb.fromto[4] and la.fromto[5] == lb.fromto[5]
            assert [j.range for _, j in la.joints] == [j.range for _, j in lb.joints]
            assert [j.gear for _, j in la.joints] == [j.gear for _, j in lb.joints]


def test_same_seed_same_robot():
    a = generate_robot(42)
    b = generate_robot(42)
    assert a == b and a.to_xml() == b.to_xml()
    assert generate_robot(43).to_xml() != a.to_xml()
    rng1, rng2 = np.random.default_rng(5), np.random.default_rng(5)
    assert generate_robot(rng1).to_xml() == generate_robot(rng2).to_xml()


def test_suites_are_deterministic_disjoint_and_named():
    train = suite("generated-train")
    test = suite("generated-test")
    assert len(train) == 100 and len(test) == 100
    assert train[3].name == "gen-train-003" and test[0].name == "gen-test-000"
    fp_train = {fingerprint(m) for m in train}
    fp_test = {fingerprint(m) for m in test}
    assert len(fp_train) == 100 and len(fp_test) == 100 and not fp_train & fp_test
    # rebuilt from scratch, the suite is identical
    from workbench.morphology.generator import GENERATOR_V1
    from workbench.morphology.suites import SUITE_SPECS

    again = generate_robots(5, SUITE_SPECS["generated-train"].seed, prefix="gen-train", spec=GENERATOR_V1)
    assert [m.to_xml() for m in again] == [m.to_xml() for m in train[:5]]


def test_builtin_robot_names():
    assert builtin_robot("gen-train-003").name == "gen-train-003"
    assert load_robot("gen-test-010").name == "gen-test-010"
    assert builtin_robot("gen2-test-042").name == "gen2-test-042"
    assert len(builtin_robot_names()) == 400
    with pytest.raises(WorkbenchError, match="unknown built-in robot"):
        builtin_robot("gen-train-100")


def test_joint_axes_reproduce_published_convention():
    # (theta, phi) -> (x axis, y axis) as in the published files
    assert joint_axes(direction(0, 90)) == ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0))
    assert joint_axes(direction(90, 90)) == ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    assert joint_axes(direction(45, 90)) == ((0.5, -0.5, 0.7071), (-0.5, 0.5, 0.7071))
    assert joint_axes(direction(180, 135)) == ((0.7071, 0.0, -0.7071), (0.0, 1.0, 0.0))
    assert joint_axes(direction(0, 180)) == ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))


def test_joint_axes_match_every_published_limb(unimal_dir):
    for path in sorted(unimal_dir.glob("train/xml/*.xml")):
        morph = Morphology.from_xml(path)
        for limb in morph.limbs:
            ax, ay = joint_axes(np.asarray(limb.direction))
            if limb.joint_x is not None:
                np.testing.assert_allclose(ax, limb.joint_x.axis, atol=1e-9)
            if limb.joint_y is not None:
                np.testing.assert_allclose(ay, limb.joint_y.axis, atol=1e-9)


def test_v1_suites_keep_the_robots_existing_checkpoints_were_trained_on():
    # The shipped teachers' robot snapshots are the first 12 of generated-train (generator v1).
    from workbench.morphology.loading import load_robots

    shipped = load_robots("checkpoints/teacher-ft/robots")
    assert [m.name for m in shipped] == [f"gen-train-{i:03d}" for i in range(12)]
    assert [m.to_xml() for m in shipped] == [m.to_xml() for m in suite("generated-train")[:12]]


def _check_like_unimal(stats, reference):
    from workbench.morphology.statistics import histogram_distance

    assert abs(stats.mean_limbs - reference.mean_limbs) <= 0.1 * reference.mean_limbs
    assert abs(stats.mean_dof - reference.mean_dof) <= 0.1 * reference.mean_dof
    assert histogram_distance(stats.limb_histogram, reference.limb_histogram) <= 0.15
    for kind, fraction in reference.joint_type_mix.items():
        assert abs(stats.joint_type_mix[kind] - fraction) <= 0.06, kind


@pytest.mark.parametrize("name", ["generated-train-v2", "generated-test-v2"])
def test_v2_suites_match_the_published_training_distribution(name):
    from workbench.morphology.statistics import robot_set_stats, unimal_train_stats

    stats = robot_set_stats(suite(name))
    _check_like_unimal(stats, unimal_train_stats())
    published = Path(__file__).resolve().parents[1] / ".." / "shared" / "unimal" / "train" / "xml"
    if published.is_dir():  # the committed figures are the published set's
        measured = robot_set_stats(load_robots(str(published)))
        assert measured == unimal_train_stats()
        _check_like_unimal(stats, measured)


def test_v1_suite_is_smaller_than_unimal_so_the_check_can_fail():
    from workbench.morphology.statistics import robot_set_stats, unimal_train_stats

    with pytest.raises(AssertionError):
        _check_like_unimal(robot_set_stats(suite("generated-train")), unimal_train_stats())


def test_v2_test_suite_is_disjoint_from_v2_training_suite():
    train = {fingerprint(m) for m in suite("generated-train-v2")}
    test = {fingerprint(m) for m in suite("generated-test-v2")}
    assert len(train) == 100 and len(test) == 100 and not train & test
