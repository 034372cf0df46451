"""The observation layout: every field lands where workbench.envs.layout declares it."""

from __future__ import annotations

import numpy as np
import pytest

from tests._env_helpers import builtin_robots
from workbench.envs import EnvConfig, make_env
from workbench.envs import layout as L
from workbench.envs.terrain import heightmap_offsets
from workbench.morphology import action_mask, context_features, limb_mask

P = L.PROPRIOCEPTIVE


@pytest.fixture(scope="module")
def robot():
    return builtin_robots(1)[0]


@pytest.mark.parametrize("task", ["ft", "vt", "obstacle"])
def test_keys_shapes_dtypes(robot, task):
    env = make_env(robot, task=task)
    obs, _ = env.reset(seed=0)
    expected = {
        L.OBS_PROPRIOCEPTIVE: (L.MAX_LIMBS, P.size),
        L.OBS_CONTEXT: (L.MAX_LIMBS, L.CONTEXT.size),
        L.OBS_LIMB_MASK: (L.MAX_LIMBS,),
        L.OBS_ACTION_MASK: (L.ACTION_DIM,),
    }
    if task != "ft":
        expected[L.OBS_HEIGHTMAP] = (L.HEIGHTMAP_SIZE,)
    assert {k: v.shape for k, v in obs.items()} == expected
    assert all(v.dtype == np.float32 for v in obs.values())
    assert env.observation_space.contains(obs)


def test_fields_land_where_declared(robot):
    env = make_env(robot)
    obs, _ = env.reset(seed=3)
    for _ in range(5):
        obs, *_ = env.step(env.action_space.sample() * 0.3)
    model = env.model
    prop, ctx = obs[L.OBS_PROPRIOCEPTIVE], obs[L.OBS_CONTEXT]
    nb = robot.num_limbs + 1

    # masks match the robot (and the morphology package's own masks)
    np.testing.assert_array_equal(obs[L.OBS_LIMB_MASK], limb_mask(robot))
    np.testing.assert_array_equal(obs[L.OBS_ACTION_MASK], action_mask(robot))
    assert obs[L.OBS_LIMB_MASK].sum() == nb
    assert obs[L.OBS_ACTION_MASK].sum() == robot.num_joints
    np.testing.assert_array_equal(ctx, context_features(robot, position="absolute"))

    # slot order is the morphology's body order; padded slots are all zero
    assert env.tables.body_names == robot.body_names()
    assert not prop[nb:].any() and not ctx[nb:].any()
    # torso slot: position relative to itself is zero, no joints
    assert not prop[0, P.slice("position")].any()
    for prefix in ("joint_x", "joint_y"):
        for field in ("angle", "velocity", "anchor", "range", "axis", "gear"):
            assert not prop[0, P.slice(f"{prefix}_{field}")].any()

    for slot, name in enumerate(robot.body_names()):
        body = model.body(name)
        np.testing.assert_allclose(prop[slot, P.slice("mass")], body.mass, rtol=1e-6)
        np.testing.assert_allclose(prop[slot, P.slice("body_pos")], body.pos, atol=1e-6)
        np.testing.assert_allclose(prop[slot, P.slice("inertial_pos")], body.ipos, atol=1e-6)
        assert abs(np.linalg.norm(prop[slot, P.slice("orientation")]) - 1.0) < 1e-4
        geom = model.geom(int(model.body_geomadr[body.id]))
        radius = prop[slot, P.slice("shape")][0]
        assert radius == pytest.approx(0.1 if slot == 0 else 0.05)
        assert radius == pytest.approx(geom.size[0])
        # world-frame position relative to the torso
        rel = env.data.xpos[body.id] - env.data.xpos[model.body("torso/0").id]
        np.testing.assert_allclose(prop[slot, P.slice("position")], rel, atol=2e-2)  # one substep behind

    joint_slots = robot.joint_slots()
    for slot, (jx, jy) in enumerate(joint_slots):
        for prefix, joint_name, axis in (("joint_x", jx, 0), ("joint_y", jy, 1)):
            present = obs[L.OBS_ACTION_MASK][L.action_slot(slot, "xy"[axis])] == 1.0
            assert present == (joint_name is not None)
            if joint_name is None:
                assert not prop[slot, P.slice(f"{prefix}_angle")].any()
                assert not prop[slot, P.slice(f"{prefix}_gear")].any()
                continue
            joint = model.joint(joint_name)
            lo, hi = joint.range
            np.testing.assert_allclose(prop[slot, P.slice(f"{prefix}_range")], (lo, hi), rtol=1e-6)
            np.testing.assert_allclose(prop[slot, P.slice(f"{prefix}_axis")], joint.axis, atol=1e-6)
            np.testing.assert_allclose(prop[slot, P.slice(f"{prefix}_anchor")], joint.pos, atol=1e-6)
            angle = prop[slot, P.slice(f"{prefix}_angle")][0]
            assert -0.05 <= angle <= 1.05  # scaled to [0, 1] by the range (soft limits may overshoot a bit)
            q = env.data.qpos[joint.qposadr[0]]
            assert angle == pytest.approx((q - lo) / (hi - lo), abs=1e-5)
            assert prop[slot, P.slice(f"{prefix}_velocity")][0] == pytest.approx(env.data.qvel[joint.dofadr[0]], rel=1e-5, abs=1e-5)
            actuator = [a for a in range(model.nu) if model.actuator_trnid[a, 0] == joint.id]
            assert prop[slot, P.slice(f"{prefix}_gear")][0] == model.actuator_gear[actuator[0], 0]


def test_joint_angle_scaled_into_unit_interval_at_reset(robot):
    env = make_env(robot)
    obs, _ = env.reset(seed=1)
    mask = obs[L.OBS_ACTION_MASK].reshape(L.MAX_LIMBS, 2)
    angles = obs[L.OBS_PROPRIOCEPTIVE][:, [P.slice("joint_x_angle").start, P.slice("joint_y_angle").start]]
    assert ((angles >= -0.01) & (angles <= 1.01))[mask == 1].all()


def test_heightmap_grid_is_separable_and_denser_near_the_torso():
    config = EnvConfig()
    offsets = heightmap_offsets(config)
    assert offsets.shape == (L.HEIGHTMAP_SIZE, 2)
    grid = offsets.reshape(*L.HEIGHTMAP_SHAPE, 2)
    forward, lateral = grid[:, 0, 0], grid[0, :, 1]
    assert np.allclose(grid[..., 0], forward[:, None]) and np.allclose(grid[..., 1], lateral[None, :])
    assert forward.min() == pytest.approx(-config.heightmap_behind) and forward.max() == pytest.approx(config.heightmap_ahead)
    assert lateral.min() == pytest.approx(-config.heightmap_side) and lateral.max() == pytest.approx(config.heightmap_side)
    assert 0.0 in forward and 0.0 in lateral
    steps = np.diff(forward)
    assert (steps > 0).all() and steps[np.argmin(np.abs(forward[:-1]))] < steps[-1]


def test_env_config_round_trip_and_validation():
    config = EnvConfig(max_episode_steps=7, vt_slope_height=(0.7, 1.0))
    assert EnvConfig.from_dict(config.to_dict()) == config
    assert config.dt == pytest.approx(0.02)
    with pytest.raises(ValueError):
        EnvConfig(frame_skip=0)
    with pytest.raises(ValueError):
        EnvConfig(context_position="sideways")
