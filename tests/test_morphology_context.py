"""Per-limb context features and masks."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from workbench.envs.layout import ACTION_DIM, CONTEXT, MAX_LIMBS
from workbench.morphology import (
    GEAR_CHOICES,
    JOINT_RANGES,
    Morphology,
    action_mask,
    builtin_robot,
    context_features,
    limb_mask,
)
from workbench.morphology.context import (
    ABSOLUTE_POS_BOUND,
    HALF_LENGTH_BOUNDS,
    MASS_BOUNDS,
    RADIUS_BOUNDS,
    RELATIVE_POS_BOUND,
)

S = {name: CONTEXT.slice(name) for name in CONTEXT.names()}


def _unscale(x, low, high):
    return (np.asarray(x, dtype=np.float64) + 1.0) / 2.0 * (high - low) + low


@pytest.fixture(scope="module")
def published(unimal_dir):
    return Morphology.from_xml(unimal_dir / "train" / "xml" / "floor-1409-0-12-01-12-30-07.xml")


def test_shape_dtype_padding_and_masks(published):
    ctx = context_features(published)
    assert ctx.shape == (MAX_LIMBS, 53) and ctx.dtype == np.float32
    n = published.num_bodies  # 9
    assert np.all(ctx[n:] == 0.0)
    assert np.all(np.abs(ctx) <= 1.0)
    mask = limb_mask(published)
    assert mask.shape == (12,) and mask.dtype == np.float32
    assert mask.tolist() == [1.0] * n + [0.0] * (12 - n)
    amask = action_mask(published)
    assert amask.shape == (ACTION_DIM,) and amask.dtype == np.float32
    assert amask.sum() == published.num_joints
    for slot, (jx, jy) in enumerate(published.joint_slots()):
        assert amask[2 * slot] == (jx is not None)
        assert amask[2 * slot + 1] == (jy is not None)
    assert amask[0] == amask[1] == 0.0  # torso


def test_values_match_mujoco(unimal_dir):
    for path in sorted(unimal_dir.glob("*/xml/*.xml"))[::25]:
        morph = Morphology.from_xml(path)
        model = mujoco.MjModel.from_xml_string(morph.to_xml())
        data = mujoco.MjData(model)
        mujoco.mj_kinematics(model, data)
        ctx = context_features(morph).astype(np.float64)
        rel = context_features(morph, position="relative").astype(np.float64)
        torso = model.body("torso/0").id
        for slot, name in enumerate(morph.body_names()):
            b = model.body(name).id
            assert _unscale(ctx[slot, S["mass"]], *MASS_BOUNDS)[0] == pytest.approx(model.body_mass[b], abs=1e-5)
            q = ctx[slot, S["inertial_quat"]]
            assert min(np.abs(q - model.body_iquat[b]).max(), np.abs(q + model.body_iquat[b]).max()) < 1e-6
            if slot == 0:
                assert np.all(ctx[0, S["body_pos"]] == 0) and np.all(ctx[0, 13:] == 0)
                continue
            # absolute: body position relative to the torso (summed along the path), world axes at rest
            absolute = data.xpos[b] - data.xpos[torso]
            np.testing.assert_allclose(
                _unscale(ctx[slot, S["body_pos"]], -ABSOLUTE_POS_BOUND, ABSOLUTE_POS_BOUND), absolute, atol=1e-6
            )
            np.testing.assert_allclose(
                _unscale(ctx[slot, S["inertial_pos"]], -ABSOLUTE_POS_BOUND, ABSOLUTE_POS_BOUND),
                data.xipos[b] - data.xpos[torso],
                atol=1e-6,
            )
            # relative: in the parent's frame
            np.testing.assert_allclose(
                _unscale(rel[slot, S["body_pos"]], -RELATIVE_POS_BOUND, RELATIVE_POS_BOUND), model.body_pos[b], atol=1e-6
            )
            np.testing.assert_allclose(
                _unscale(rel[slot, S["inertial_pos"]], -RELATIVE_POS_BOUND, RELATIVE_POS_BOUND),
                model.body_ipos[b],
                atol=1e-6,
            )
            geom = model.body_geomadr[b]
            assert _unscale(ctx[slot, S["shape"]][0], *RADIUS_BOUNDS) == pytest.approx(model.geom_size[geom][0], abs=1e-6)
            assert _unscale(ctx[slot, S["shape"]][1], *HALF_LENGTH_BOUNDS) == pytest.approx(
                model.geom_size[geom][1], abs=1e-6
            )


def test_joint_fields(published):
    ctx = context_features(published)
    for slot, limb in enumerate(published.limbs, start=1):
        for prefix, joint in (("joint_x", limb.joint_x), ("joint_y", limb.joint_y)):
            onehot = ctx[slot, S[f"{prefix}_range_onehot"]]
            gear = ctx[slot, S[f"{prefix}_gear_onehot"]]
            axis = ctx[slot, S[f"{prefix}_axis"]]
            if joint is None:
                assert not onehot.any() and not gear.any() and not axis.any()
                continue
            assert onehot.sum() == 1 and JOINT_RANGES[int(onehot.argmax())] == joint.range
            assert gear.sum() == 1 and GEAR_CHOICES[int(gear.argmax())] == joint.gear
            np.testing.assert_allclose(axis, np.asarray(joint.axis) / np.linalg.norm(joint.axis), atol=1e-6)


def test_absolute_and_relative_differ_only_in_positions(published):
    a = context_features(published, position="absolute")
    r = context_features(published, position="relative")
    positions = np.r_[S["body_pos"], S["inertial_pos"]]
    others = np.setdiff1d(np.arange(53), positions)
    np.testing.assert_array_equal(a[:, others], r[:, others])
    assert not np.allclose(a[:, positions], r[:, positions])
    # a limb two levels down: absolute = parent's absolute + own relative
    limb15 = published.body_names().index("limb/15")
    limb0 = published.body_names().index("limb/0")
    abs15 = _unscale(a[limb15, S["body_pos"]], -ABSOLUTE_POS_BOUND, ABSOLUTE_POS_BOUND)
    abs0 = _unscale(a[limb0, S["body_pos"]], -ABSOLUTE_POS_BOUND, ABSOLUTE_POS_BOUND)
    rel15 = _unscale(r[limb15, S["body_pos"]], -RELATIVE_POS_BOUND, RELATIVE_POS_BOUND)
    np.testing.assert_allclose(abs15, abs0 + rel15, atol=1e-6)
    with pytest.raises(ValueError):
        context_features(published, position="sideways")


def test_context_is_constant_and_not_aliased():
    morph = builtin_robot("gen-train-002")
    a = context_features(morph)
    a[:] = 7.0
    b = context_features(morph)
    assert not np.any(b == 7.0)
    np.testing.assert_array_equal(b, context_features(builtin_robot("gen-train-002")))


def test_all_generated_and_published_in_bounds(unimal_dir):
    robots = [Morphology.from_xml(p) for p in sorted(unimal_dir.glob("*/xml/*.xml"))[::10]]
    robots += [builtin_robot(f"gen-test-{i:03d}") for i in range(100)]
    for morph in robots:
        for mode in ("absolute", "relative"):
            ctx = context_features(morph, position=mode)
            assert np.all(np.isfinite(ctx)) and np.all(np.abs(ctx) <= 1.0)
            n = morph.num_bodies
            assert np.all(ctx[1:n, S["joint_x_range_onehot"]].sum(1) + ctx[1:n, S["joint_y_range_onehot"]].sum(1) >= 1)
