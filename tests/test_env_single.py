"""The single Gymnasium environment: API, episode rules, terrain, physics safety."""

from __future__ import annotations

import os

import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from tests._env_helpers import assert_obs_equal, builtin_robots
from workbench.envs import EnvConfig, make_env
from workbench.envs import layout as L
from workbench.errors import WorkbenchError


@pytest.fixture(scope="module")
def robot():
    return builtin_robots(1)[0]


@pytest.mark.filterwarnings("ignore:.*Box observation space (minimum|maximum) value is")
@pytest.mark.parametrize("task", ["ft", "vt", "obstacle"])
def test_gymnasium_env_checker(robot, task):
    env = make_env(robot, task=task)
    check_env(env, skip_render_check=True)


def test_make_env_accepts_xml_path_and_builtin_name(robot, tmp_path):
    path = tmp_path / "robot.xml"
    path.write_text(robot.to_xml())
    env = make_env(str(path))
    assert env.observation_space[L.OBS_PROPRIOCEPTIVE].shape == (12, 52)
    from workbench.morphology import builtin_robot_names

    assert make_env(builtin_robot_names()[0]).name == builtin_robot_names()[0]
    with pytest.raises(WorkbenchError):
        make_env(tmp_path / "missing.xml")
    with pytest.raises(WorkbenchError):
        make_env(robot, task="swim")


def test_step_api_reward_and_info(robot):
    env = make_env(robot)
    obs, info = env.reset(seed=0)
    assert env.dt == pytest.approx(0.02)
    x = info["x_position"]
    for _ in range(10):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert isinstance(reward, float) and isinstance(terminated, bool) and isinstance(truncated, bool)
        assert reward == pytest.approx((info["x_position"] - x) / 0.02)
        assert reward == info["reward_forward"]
        assert not info["physics_unstable"]
        x = info["x_position"]
        if terminated or truncated:
            break


def test_reset_noise_is_small_and_seeded(robot):
    env = make_env(robot)
    env.reset(seed=0)
    qpos0 = env.model.qpos0
    assert np.abs(env.data.qpos - qpos0).max() <= 0.005 + 1e-12
    assert np.abs(env.data.qvel).max() <= 0.005 + 1e-12
    first = env.data.qpos.copy()
    env.reset(seed=0)
    np.testing.assert_array_equal(first, env.data.qpos)
    env.reset(seed=1)
    assert not np.array_equal(first, env.data.qpos)


@pytest.mark.parametrize("task", ["ft", "vt"])
def test_same_seed_same_trajectory(robot, task):
    def rollout(seed):
        env = make_env(robot, task=task)
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(0)
        out = [obs]
        for _ in range(40):
            obs, reward, terminated, truncated, _ = env.step(rng.uniform(-1, 1, 24))
            out.append((obs, reward, terminated, truncated))
            if terminated or truncated:
                out.append(env.reset()[0])
        return out

    a, b, c = rollout(5), rollout(5), rollout(6)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if isinstance(x, dict):
            assert_obs_equal(x, y)
        else:
            assert_obs_equal(x[0], y[0])
            assert x[1:] == y[1:]
    assert not np.array_equal(a[0][L.OBS_PROPRIOCEPTIVE], c[0][L.OBS_PROPRIOCEPTIVE])


def test_truncation_after_max_episode_steps(robot):
    env = make_env(robot, config=EnvConfig(max_episode_steps=5, fall_fraction=0.0))
    env.reset(seed=0)
    for step in range(1, 6):
        _, _, terminated, truncated, _ = env.step(np.zeros(24, np.float32))
        assert not terminated
        assert truncated == (step == 5)


def test_fall_terminates(robot):
    env = make_env(robot, config=EnvConfig(fall_fraction=10.0))  # any height counts as fallen
    env.reset(seed=0)
    _, _, terminated, truncated, info = env.step(np.zeros(24, np.float32))
    assert terminated and not truncated and info["fell"] and not info["physics_unstable"]


def test_fall_height_is_measured_from_the_standing_height(robot):
    """UNIMAL robots start floor_clearance (0.2 m) above the floor: the fall threshold is a fraction
    of the torso height once the robot stands on the floor, not of the initial height."""
    config = EnvConfig(fall_fraction=0.9)
    threshold = config.fall_fraction * (robot.height - config.floor_clearance)
    env = make_env(robot, config=config)
    env.reset(seed=0)
    heights = []
    for _ in range(200):
        _, _, terminated, _, info = env.step(np.zeros(24, np.float32))
        heights.append(info["torso_height"])
        if terminated:
            break
    assert info["fell"], "the robot should sink below 90% of its standing height"
    assert heights[-1] < threshold
    assert all(h >= threshold for h in heights[:-1])


@pytest.mark.parametrize("qvel", [1e12, 5e3])
def test_blow_up_is_flagged_and_ends_the_episode(robot, qvel, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MuJoCo would write MUJOCO_LOG.TXT here
    env = make_env(robot)
    env.reset(seed=0)
    env.data.qvel[:] = qvel  # 1e12: MuJoCo's own bad-qvel reset path; 5e3: above EnvConfig.max_qvel
    obs, reward, terminated, truncated, info = env.step(np.zeros(24, np.float32))
    assert info["physics_unstable"] and terminated and not truncated
    assert reward == 0.0
    assert all(np.isfinite(v).all() for v in obs.values())
    assert not os.listdir(tmp_path), "no log file may be written into the working directory"
    obs, info = env.reset()
    assert not info["physics_unstable"]
    *_, info = env.step(np.zeros(24, np.float32))
    assert not info["physics_unstable"]


def test_nan_action_is_flagged(robot, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = make_env(robot)
    env.reset(seed=0)
    action = np.zeros(24, np.float32)
    action[np.flatnonzero(env.tables.action_mask)[0]] = np.nan
    *_, terminated, _, info = env.step(action)
    assert info["physics_unstable"] and terminated
    assert not os.listdir(tmp_path)


def _teleport(env, x, y=0.0, z=3.0):
    root = env.tables.root_qpos
    env.data.qpos[root : root + 3] = (x, y, z)
    env.data.qvel[:] = 0.0
    mujoco.mj_forward(env.model, env.data)
    env._x = x  # keep the reward of the next step small


def test_vt_terrain_is_rebuilt_every_episode_and_seen_by_the_heightmap(robot):
    env = make_env(robot, task="vt")
    env.reset(seed=0)
    field = env.model.hfield("terrain")
    cells = slice(int(field.adr[0]), int(field.adr[0] + field.nrow[0] * field.ncol[0]))
    first = env.model.hfield_data[cells].copy()
    assert first.max() > 0.2  # slopes, steps, rugged squares
    env.reset()
    second = env.model.hfield_data[cells].copy()
    assert not np.array_equal(first, second)
    maps = []
    for x in np.linspace(5.0, 90.0, 18):
        _teleport(env, float(x))
        obs, *_ = env.step(np.zeros(24, np.float32))
        assert np.isfinite(obs[L.OBS_HEIGHTMAP]).all()
        maps.append(obs[L.OBS_HEIGHTMAP])
    maps = np.stack(maps)
    assert maps.std(axis=1).max() > 0.05  # the height map varies with the terrain
    assert not np.allclose(maps[0], maps[-1])


def test_obstacles_placed_per_episode_clear_of_the_start_and_seen(robot):
    config = EnvConfig()
    env = make_env(robot, task="obstacle", config=config)
    env.reset(seed=0)
    first = env.data.mocap_pos.copy()
    assert first.shape == (config.num_obstacles, 3)
    assert (np.hypot(first[:, 0], first[:, 1]) > config.obstacle_clear_radius).all()
    env.reset()
    assert not np.array_equal(first, env.data.mocap_pos)
    box = env.data.mocap_pos[0]
    _teleport(env, float(box[0]) - 2.0, float(box[1]))
    env.data.qpos[env.tables.root_qpos + 3 : env.tables.root_qpos + 7] = (1, 0, 0, 0)  # heading +x
    mujoco.mj_forward(env.model, env.data)
    obs, *_ = env.step(np.zeros(24, np.float32))
    hm = obs[L.OBS_HEIGHTMAP]
    assert np.isfinite(hm).all() and hm.max() > 0.4  # the box ahead stands out


@pytest.mark.parametrize("task", ["vt", "obstacle"])
def test_leaving_the_strip_sideways_terminates(robot, task):
    env = make_env(robot, task=task)
    env.reset(seed=0)
    _teleport(env, 1.0, y=25.0, z=1.0)
    *_, terminated, _, info = env.step(np.zeros(24, np.float32))
    assert terminated and info["out_of_strip"]
