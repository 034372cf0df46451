"""The vectorised env's compiled step kernel against the numpy observation code."""

from __future__ import annotations

import numpy as np

from tests._env_helpers import builtin_robots
from workbench.envs import EnvConfig, VectorUnimalEnv
from workbench.envs.kernels import observe_single_robot
from workbench.envs.observation import write_proprioceptive


def _moving_env(n: int = 5) -> VectorUnimalEnv:
    venv = VectorUnimalEnv(builtin_robots(1), n, config=EnvConfig(max_episode_steps=1000), num_threads=2)
    venv.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(12):  # bodies moving and rotating, joints away from their initial angles
        venv.step(rng.uniform(-1, 1, (n, 24)))
    return venv


def _run_kernel(venv: VectorUnimalEnv, qvel=None, qacc=None, warning=None, warn_prev=None):
    sim = venv._sims[0]
    a = sim.active
    n = venv.num_envs
    proprio = np.full((n, 12, 52), -7.0, np.float32)
    torso = np.zeros((n, 7))
    unstable = np.zeros(n, bool)
    warn_prev = a.warning[:, :, 1].sum(axis=1).astype(np.int64) if warn_prev is None else warn_prev
    observe_single_robot(
        proprio, torso, unstable, warn_prev, a.xpos, a.xquat, a.cvel, a.subtree_com, a.qpos,
        a.qvel if qvel is None else qvel, a.qacc if qacc is None else qacc,
        a.warning if warning is None else warning, *sim.index.kernel_tables,
        venv.config.max_qvel, venv.config.max_qacc,
    )
    return proprio, torso, unstable, warn_prev


def test_kernel_observation_is_bit_identical_to_numpy():
    venv = _moving_env()
    sim, a = venv._sims[0], venv._sims[0].active
    proprio, torso, unstable, _ = _run_kernel(venv)
    expected = np.full_like(proprio, -7.0)
    rows = slice(None)
    write_proprioceptive(expected, rows, sim.index, a.xpos, a.xquat, a.cvel, a.subtree_com, a.qpos, a.qvel, rows)
    assert np.abs(expected[:, :, :13]).max() > 0.1  # a real, moving state
    np.testing.assert_array_equal(proprio, expected)  # every field, padding untouched (-7)
    np.testing.assert_array_equal(torso, a.qpos[:, sim.root : sim.root + 7])
    assert not unstable.any()
    venv.close()


def test_kernel_flags_nan_huge_values_and_new_warnings():
    venv = _moving_env()
    a = venv._sims[0].active
    qvel, qacc, warning = a.qvel.copy(), a.qacc.copy(), np.array(a.warning, copy=True)
    qvel[1, 3] = np.nan
    qacc[2, 0] = -2 * venv.config.max_qacc
    qvel[3, 5] = 2 * venv.config.max_qvel
    warning[4, 0, 1] += 1  # MuJoCo counted a new warning in env 4
    _, _, unstable, warn_prev = _run_kernel(venv, qvel, qacc, warning)
    np.testing.assert_array_equal(unstable, [False, True, True, True, True])
    assert warn_prev[4] == warning[4, :, 1].sum()  # counted once: the next step does not flag it again
    _, _, unstable, _ = _run_kernel(venv, warning=warning, warn_prev=warn_prev)
    assert not unstable.any()
    venv.close()
