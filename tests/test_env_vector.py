"""The vectorised multi-robot environment: format, agreement with the single env,
seeding, same-step auto-reset, robot sampling, blow-ups."""

from __future__ import annotations

import numpy as np
import pytest

from tests._env_helpers import assert_obs_equal, builtin_robots, row
from workbench.envs import EnvConfig, VectorUnimalEnv, make_env
from workbench.envs import layout as L
from workbench.morphology import action_mask, limb_mask


@pytest.fixture(scope="module")
def robots():
    return builtin_robots(3)


@pytest.mark.parametrize("task", ["ft", "vt"])
def test_batched_format_and_masks(robots, task):
    venv = VectorUnimalEnv(robots, 5, task=task, num_threads=2)
    obs, info = venv.reset(seed=0)
    assert obs[L.OBS_PROPRIOCEPTIVE].shape == (5, 12, 52)
    assert obs[L.OBS_CONTEXT].shape == (5, 12, 53)
    assert obs[L.OBS_LIMB_MASK].shape == (5, 12) and obs[L.OBS_ACTION_MASK].shape == (5, 24)
    assert (L.OBS_HEIGHTMAP in obs) == (task == "vt")
    np.testing.assert_array_equal(info["robot_index"], np.arange(5) % 3)
    for i, r in enumerate(venv.robot_index):
        np.testing.assert_array_equal(obs[L.OBS_LIMB_MASK][i], limb_mask(robots[r]))
        np.testing.assert_array_equal(obs[L.OBS_ACTION_MASK][i], action_mask(robots[r]))
    assert venv.single_observation_space.contains(row(obs, 0))
    obs, reward, terminated, truncated, info = venv.step(np.zeros((5, 24)))
    assert reward.shape == terminated.shape == truncated.shape == (5,)
    assert info["physics_unstable"].shape == (5,) and not info["physics_unstable"].any()
    assert np.isnan(info["episode_return"]).all() or "final_obs" in info
    venv.close()


@pytest.mark.parametrize("task", ["ft", "vt", "obstacle"])
@pytest.mark.parametrize("num_robots", [1, 3])
def test_single_and_vector_env_give_the_same_observations(robots, task, num_robots):
    """Same robot, seed and actions: identical observations, rewards and episode ends,
    including across auto-resets (one robot: the single-group path; three: the padded one)."""
    config = EnvConfig(max_episode_steps=15)
    chosen = robots[:num_robots]
    n = 4
    venv = VectorUnimalEnv(chosen, n, task=task, config=config, num_threads=2)
    vobs, _ = venv.reset(seed=100)
    envs = [make_env(chosen[i % num_robots], task=task, config=config) for i in range(n)]
    sobs = [env.reset(seed=100 + i)[0] for i, env in enumerate(envs)]
    for i in range(n):
        assert_obs_equal(sobs[i], row(vobs, i), f"reset env {i}")
    rng = np.random.default_rng(1)
    for t in range(40):
        actions = rng.uniform(-1, 1, (n, 24))
        vobs, vrew, vterm, vtrunc, info = venv.step(actions)
        for i, env in enumerate(envs):
            obs, reward, terminated, truncated, _ = env.step(actions[i])
            assert reward == vrew[i] and terminated == vterm[i] and truncated == vtrunc[i], (t, i)
            if terminated or truncated:
                assert_obs_equal(obs, row(info["final_obs"], i), f"final obs, step {t}, env {i}")
                obs, _ = env.reset()
            assert_obs_equal(obs, row(vobs, i), f"step {t}, env {i}")
    venv.close()


def test_same_seed_same_trajectories(robots):
    def rollout(seed, probabilities=None):
        venv = VectorUnimalEnv(robots, 6, config=EnvConfig(max_episode_steps=10), num_threads=2)
        venv.set_robot_probabilities(probabilities)
        obs, _ = venv.reset(seed=seed)
        rng = np.random.default_rng(0)
        out = [obs[L.OBS_PROPRIOCEPTIVE]]
        for _ in range(30):
            obs, reward, *_ , info = venv.step(rng.uniform(-1, 1, (6, 24)))
            out += [obs[L.OBS_PROPRIOCEPTIVE], reward, info["robot_index"]]
        venv.close()
        return out

    for p in (None, [0.2, 0.5, 0.3]):
        a, b, c = rollout(3, p), rollout(3, p), rollout(4, p)
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
        assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_same_step_auto_reset(robots):
    config = EnvConfig(max_episode_steps=3, fall_fraction=0.0)
    venv = VectorUnimalEnv(robots[:1], 2, config=config, num_threads=2)
    venv.reset(seed=7)
    single = make_env(robots[0], config=config)
    single.reset(seed=7)  # env 0 of the vector env
    rewards = []
    for t in range(1, 4):
        action = np.zeros((2, 24))
        obs, reward, terminated, truncated, info = venv.step(action)
        s_obs, s_reward, *_ = single.step(action[0])
        rewards.append(reward.copy())
        np.testing.assert_array_equal(info["robot_index"], [0, 0])
        if t < 3:
            assert "final_obs" not in info
            assert np.isnan(info["episode_return"]).all() and np.isnan(info["episode_length"]).all()
            assert not truncated.any()
    assert truncated.all() and not terminated.any()
    assert_obs_equal(s_obs, row(info["final_obs"], 0), "final_obs = last obs of the finished episode")
    np.testing.assert_array_equal(info["final_info_mask"], [True, True])
    np.testing.assert_allclose(info["episode_return"], np.sum(rewards, axis=0))
    np.testing.assert_array_equal(info["episode_length"], [3, 3])
    first_of_next, _ = single.reset()
    assert_obs_equal(first_of_next, row(obs, 0), "returned obs = first obs of the next episode")
    obs, reward, terminated, truncated, info = venv.step(np.zeros((2, 24)))  # the new episode runs on
    assert not truncated.any() and "final_obs" not in info
    venv.close()


def test_robot_probabilities(robots):
    venv = VectorUnimalEnv(robots, 4, config=EnvConfig(max_episode_steps=2, fall_fraction=0.0), num_threads=2)
    venv.reset(seed=0)
    np.testing.assert_array_equal(venv.robot_index, [0, 1, 2, 0])
    venv.set_robot_probabilities([0.0, 1.0, 0.0])
    for _ in range(2):
        obs, *_, info = venv.step(np.zeros((4, 24)))
    np.testing.assert_array_equal(info["robot_index"], [0, 1, 2, 0])  # the robots that ran the step
    np.testing.assert_array_equal(venv.robot_index, [1, 1, 1, 1])
    for i in range(4):
        np.testing.assert_array_equal(obs[L.OBS_LIMB_MASK][i], limb_mask(robots[1]))
    venv.set_robot_probabilities(None)
    for _ in range(2):
        venv.step(np.zeros((4, 24)))
    np.testing.assert_array_equal(venv.robot_index, [0, 1, 2, 0])
    for bad in ([1.0, 1.0], [-1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [np.nan, 1.0, 1.0]):
        with pytest.raises(ValueError):
            venv.set_robot_probabilities(bad)
    venv.close()


@pytest.mark.parametrize("num_robots", [1, 3])
def test_blow_up_in_one_env_is_flagged_and_reset(robots, num_robots, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    venv = VectorUnimalEnv(robots[:num_robots], 3, num_threads=2)
    venv.reset(seed=0)
    qpos, qvel = venv.get_state(1)
    venv.set_state(1, qpos, np.full_like(qvel, 1e12))
    obs, reward, terminated, truncated, info = venv.step(np.zeros((3, 24)))
    np.testing.assert_array_equal(info["physics_unstable"], [False, True, False])
    assert terminated[1] and reward[1] == 0.0 and info["episode_length"][1] == 1
    assert all(np.isfinite(v).all() for v in obs.values())
    assert all(np.isfinite(v).all() for v in info["final_obs"].values())
    assert not list(tmp_path.iterdir())
    obs, reward, terminated, truncated, info = venv.step(np.zeros((3, 24)))
    assert not info["physics_unstable"].any()
    venv.close()


def test_bad_actions_shape_raises(robots):
    venv = VectorUnimalEnv(robots[:1], 2, num_threads=1)
    with pytest.raises(RuntimeError):
        venv.step(np.zeros((2, 24)))
    venv.reset(seed=0)
    with pytest.raises(ValueError):
        venv.step(np.zeros((3, 24)))
    venv.close()
