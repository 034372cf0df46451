"""Many copies of many robots in one object, stepped in batches.

Physics runs in :class:`mujoco.batch.Batch` objects, one per robot (every env slot
has a row in every robot's batch; an env steps in the batch of the robot it runs):
one C call advances all envs of a robot by ``frame_skip`` substeps on a thread pool
that releases the GIL; several robots are stepped concurrently from a small
persistent Python thread pool. Observations are gathered from the batches' bound
fields with precomputed index arrays and assembled in numpy over the whole batch.

Auto-reset is same-step (Gymnasium's ``AutoresetMode.SAME_STEP``): the observation
returned for a finished env is the first of its next episode; ``info["final_obs"]``
holds the last observation of the finished episode.
"""

from __future__ import annotations

import copy
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

import mujoco
import numpy as np
from mujoco import batch as mjbatch

from workbench.envs import layout as L
from workbench.envs.config import EnvConfig, check_task
from workbench.envs.core import Episode, EpisodeDrawer, action_space, fall_reference, observation_space
from workbench.envs.observation import ObsIndex, write_proprioceptive
from workbench.envs.physics import install_quiet_warning_handler
from workbench.envs.robot import CompiledRobot, compile_robot
from workbench.envs.terrain import heading_from_quat, heightmap_offsets, heightmaps
from workbench.errors import WorkbenchError


def _as_robot_list(morphologies: Any) -> list:
    if isinstance(morphologies, (list, tuple)):
        return list(morphologies)
    if isinstance(morphologies, (str, os.PathLike)):
        path = os.fspath(morphologies)
        if path.lower().endswith(".xml"):
            return [path]
        try:
            from workbench.morphology import load_robots
        except ImportError:  # pragma: no cover
            return [path]
        return list(load_robots(path))
    return [morphologies]


class _RobotSim:
    """One robot's compiled model, tables and batch (num_envs rows)."""

    def __init__(self, robot: CompiledRobot, num_envs: int, num_threads: int, task: str) -> None:
        self.robot = robot
        self.model = robot.model
        self.tables = robot.tables
        self.index = ObsIndex(robot.tables)
        self.num_envs = num_envs
        self.num_threads = num_threads
        self.task = task
        self.fall_height = fall_reference(task, robot.config, robot.tables)
        self.root = robot.tables.root_qpos
        self._batch: mjbatch.Batch | None = None
        self.models: list[mujoco.MjModel] | None = None  # VT: per-slot models (own height field)

    @property
    def batch(self) -> mjbatch.Batch:
        if self._batch is None:
            b = mjbatch.Batch(self.model, self.num_envs, nthread=self.num_threads)
            self.qpos = b.bind("qpos")
            self.qvel = b.bind("qvel")
            self.ctrl = b.bind("ctrl")
            self.xpos = b.bind("xpos")
            self.xquat = b.bind("xquat")
            self.cvel = b.bind("cvel")
            self.subtree_com = b.bind("subtree_com")
            self.qacc = b.bind("qacc")
            self.warning = b.warning
            if self.task == "obstacle":
                self.mocap_pos = b.bind("mocap_pos")
                self.mocap_quat = b.bind("mocap_quat")
            if self.task == "vt":
                self.models = [self.model] * self.num_envs
                b.set_models(self.models)
            self._batch = b
        return self._batch

    def warnings_of(self, rows) -> np.ndarray:
        return self.warning[rows, :, 1].sum(axis=-1)


class VectorUnimalEnv:
    """``num_envs`` environments over ``morphologies`` (a list of robots), one task.

    Observation: the single env's dict with a leading (num_envs,) axis. ``step`` takes
    (num_envs, 24) actions and returns obs, reward, terminated, truncated, info.
    ``info`` always holds, per env: ``reward_forward``, ``x_position``,
    ``torso_height``, ``fell``, ``out_of_strip``, ``physics_unstable``,
    ``robot_index`` (the robot that ran this step), ``episode_return`` and
    ``episode_length`` (NaN where the env did not finish), and, when some env
    finished, ``final_obs`` (batched dict; rows valid where done) and
    ``final_info_mask``.
    """

    def __init__(
        self,
        morphologies: Any,
        num_envs: int,
        task: str = "ft",
        config: EnvConfig | None = None,
        num_threads: int | None = None,
    ) -> None:
        self.config = config or EnvConfig()
        self.task = check_task(task)
        if num_envs < 1:
            raise WorkbenchError(f"num_envs must be >= 1, got {num_envs}")
        install_quiet_warning_handler()
        robots = _as_robot_list(morphologies)
        if not robots:
            raise WorkbenchError("no robots given")
        self.num_envs = int(num_envs)
        self.num_threads = int(num_threads or min(os.cpu_count() or 1, 8))
        self._sims = [_RobotSim(compile_robot(r, self.task, self.config), self.num_envs, self.num_threads, self.task) for r in robots]
        self.morphologies = [s.robot.source.morphology or s.robot.source.path for s in self._sims]
        self.robot_names = [s.robot.name for s in self._sims]
        self.num_robots = len(self._sims)
        self.observation_space = observation_space(self.task)
        self.single_observation_space = self.observation_space
        self.action_space = action_space()
        self.single_action_space = self.action_space

        B = self.num_envs
        self._drawer = EpisodeDrawer(self.task, self.config)
        self._geometry = self._drawer.geometry
        self._offsets = heightmap_offsets(self.config) if self._geometry is not None else None
        if self._geometry is not None:
            cells = self._geometry.nrow * self._geometry.ncol
            self._grids = np.zeros((B, cells), np.float32)
            self._grids_flat = self._grids.reshape(-1)
            self._heightmap = np.zeros((B, L.HEIGHTMAP_SIZE), np.float32)
            self._ground = np.zeros(B)
        self._env_models: list[mujoco.MjModel | None] = [None] * B  # VT: each env's own model
        self._proprio = np.zeros((B, L.MAX_LIMBS, L.PROPRIOCEPTIVE.size), np.float32)
        self._context = np.zeros((B, L.MAX_LIMBS, L.CONTEXT.size), np.float32)
        self._limb_mask = np.zeros((B, L.MAX_LIMBS), np.float32)
        self._action_mask = np.zeros((B, L.ACTION_DIM), np.float32)
        self._torso = np.zeros((B, 7))
        self._x_prev = np.zeros(B)
        self._fall_height = np.zeros(B)
        self._warn_prev = np.zeros(B, np.int64)
        self._steps = np.zeros(B, np.int64)
        self._returns = np.zeros(B)
        self._unstable = np.zeros(B, bool)
        self.robot_index = np.arange(B) % self.num_robots
        self._probabilities: np.ndarray | None = None
        self._rngs = [np.random.default_rng() for _ in range(B)]
        self._robot_rng = np.random.default_rng()
        self._groups: list[tuple[_RobotSim, Any, Any]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._needs_reset = True
        self._all = np.arange(B)

    # ------------------------------------------------------------------ public API
    @property
    def morphology_names(self) -> list[str]:
        return list(self.robot_names)

    def set_robot_probabilities(self, p: Sequence[float] | np.ndarray | None) -> None:
        """From the next auto-reset on, each env draws its robot from ``p`` (None: env i -> robot i % R)."""
        if p is None:
            self._probabilities = None
            return
        p = np.asarray(p, dtype=np.float64).reshape(-1)
        if p.shape != (self.num_robots,) or not np.isfinite(p).all() or (p < 0).any() or p.sum() <= 0:
            raise ValueError(f"robot probabilities must be {self.num_robots} non-negative finite values with a positive sum")
        self._probabilities = p / p.sum()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rngs = [np.random.default_rng(seed + i) for i in range(self.num_envs)]
            self._robot_rng = np.random.default_rng([seed, 7919])
        if self._probabilities is None:
            robots = self._all % self.num_robots
        else:
            robots = self._robot_rng.choice(self.num_robots, size=self.num_envs, p=self._probabilities)
        self._steps[:] = 0
        self._returns[:] = 0.0
        self._start_episodes(self._all, robots)
        self._needs_reset = False
        info = {"robot_index": self.robot_index.copy()}
        return self._obs_dict(), info

    def step(self, actions: np.ndarray):
        if self._needs_reset:
            raise RuntimeError("call reset() before step()")
        actions = np.asarray(actions, dtype=np.float64)
        if actions.shape != (self.num_envs, L.ACTION_DIM):
            raise ValueError(f"actions must have shape ({self.num_envs}, {L.ACTION_DIM}), got {actions.shape}")
        cfg = self.config
        unstable = self._unstable
        unstable[:] = False
        for sim, rows, _ in self._groups:
            if isinstance(rows, slice):
                np.clip(actions[:, sim.tables.ctrl_slot], -1.0, 1.0, out=sim.ctrl)
            else:
                sim.ctrl[rows] = np.clip(actions[rows[:, None], sim.tables.ctrl_slot[None, :]], -1.0, 1.0)
        self._physics_step()
        torso = self._torso
        for sim, rows, _ in self._groups:
            write_proprioceptive(
                self._proprio, rows, sim.index, sim.xpos, sim.xquat, sim.cvel, sim.subtree_com, sim.qpos, sim.qvel, rows
            )
            torso[rows] = sim.qpos[rows, sim.root : sim.root + 7]
            w = sim.warnings_of(rows)
            bad = ~(np.abs(sim.qvel[rows]).max(axis=1) <= cfg.max_qvel)
            bad |= ~(np.abs(sim.qacc[rows]).max(axis=1) <= cfg.max_qacc)
            bad |= w > self._warn_prev[rows]
            unstable[rows] |= bad
            self._warn_prev[rows] = w
        x = torso[:, 0]
        reward = (x - self._x_prev) / cfg.dt
        self._x_prev[:] = x
        any_unstable = unstable.any()
        if any_unstable:
            reward[unstable] = 0.0
            np.nan_to_num(self._proprio, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
            np.nan_to_num(torso, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        height = torso[:, 2].copy()
        out = None
        if self._geometry is not None:
            self._update_heightmaps(self._all)
            if self.task == "vt":
                height -= self._ground
            g = self._geometry
            out = (torso[:, 1] < g.y0) | (torso[:, 1] > g.y1) | (torso[:, 0] < g.x0) | (torso[:, 0] > g.x1)
        fell = height < self._fall_height
        terminated = fell | unstable
        if out is not None:
            terminated |= out
        self._steps += 1
        self._returns += reward
        truncated = ~terminated & (self._steps >= cfg.max_episode_steps)
        obs = self._obs_dict()
        done = terminated | truncated
        info: dict[str, Any] = {
            "reward_forward": reward.copy(),
            "x_position": x.copy(),
            "torso_height": torso[:, 2].copy(),
            "fell": fell,
            "out_of_strip": out if out is not None else np.zeros(self.num_envs, bool),
            "physics_unstable": unstable.copy(),
            "robot_index": self.robot_index.copy(),
        }
        ep_ret = np.full(self.num_envs, np.nan)
        ep_len = np.full(self.num_envs, np.nan)
        if done.any():
            ids = np.flatnonzero(done)
            ep_ret[ids] = self._returns[ids]
            ep_len[ids] = self._steps[ids]
            info["final_obs"] = obs
            info["final_info_mask"] = done.copy()
            self._steps[ids] = 0
            self._returns[ids] = 0.0
            if self._probabilities is None:
                robots = ids % self.num_robots
            else:
                robots = self._robot_rng.choice(self.num_robots, size=len(ids), p=self._probabilities)
            self._start_episodes(ids, robots)
            obs = self._obs_dict()
        info["episode_return"] = ep_ret
        info["episode_length"] = ep_len
        return obs, reward, terminated, truncated, info

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # ------------------------------------------------------------------ internals
    def _obs_dict(self) -> dict[str, np.ndarray]:
        obs = {
            L.OBS_PROPRIOCEPTIVE: self._proprio.copy(),
            L.OBS_CONTEXT: self._context.copy(),
            L.OBS_LIMB_MASK: self._limb_mask.copy(),
            L.OBS_ACTION_MASK: self._action_mask.copy(),
        }
        if self._geometry is not None:
            obs[L.OBS_HEIGHTMAP] = self._heightmap.copy()
        return obs

    def _physics_step(self) -> None:
        nstep = self.config.frame_skip
        if len(self._groups) == 1:
            self._step_group(self._groups[0], nstep)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.num_threads, thread_name_prefix="unimal-physics")
        for _ in self._pool.map(lambda g: self._step_group(g, nstep), self._groups):
            pass

    def _step_group(self, group, nstep: int) -> None:
        sim, rows, ids = group
        try:
            sim.batch.step(ids, nstep=nstep)
        except mjbatch.SimulationError as error:  # MuJoCo raised in some simulations
            self._unstable[error.ids] = True

    def _rebuild_groups(self) -> None:
        groups = []
        for r in np.unique(self.robot_index):
            ids = np.flatnonzero(self.robot_index == r)
            if len(ids) == self.num_envs:
                groups.append((self._sims[r], slice(None), None))
            else:
                groups.append((self._sims[r], ids, ids.astype(np.int32)))
        self._groups = groups

    def _start_episodes(self, ids: np.ndarray, robots: np.ndarray) -> None:
        """Begin a new episode in envs ``ids`` with robots ``robots`` (same length)."""
        old = self.robot_index.copy()
        self.robot_index[ids] = robots
        changed = ids[old[ids] != robots]
        if changed.size or not self._groups:
            self._rebuild_groups()
        for i, r in zip(ids, robots):
            if old[i] != r or self._env_models[i] is None:
                self._assign_robot(int(i), int(r))
        episodes = {int(i): self._drawer.draw(self._rngs[i], self._sims[r].tables) for i, r in zip(ids, robots)}
        for r in np.unique(robots):
            sim = self._sims[int(r)]
            rows = np.sort(ids[robots == r])
            self._apply_episodes(sim, rows, [episodes[int(i)] for i in rows])
        if self._geometry is not None:
            self._update_heightmaps(ids)

    def _assign_robot(self, i: int, r: int) -> None:
        sim = self._sims[r]
        self._proprio[i] = sim.tables.static_obs
        self._context[i] = sim.robot.context
        self._limb_mask[i] = sim.tables.limb_mask
        self._action_mask[i] = sim.tables.action_mask
        self._fall_height[i] = sim.fall_height
        if self.task == "vt":
            sim.batch  # noqa: B018 - create the batch and its per-slot model list
            previous = self._env_models[i]
            if previous is not None:  # give the old robot's slot back its shared model
                for other in self._sims:
                    if other.models is not None and other.models[i] is previous:
                        other.models[i] = other.model
                        other.batch.set_models(other.models)
            self._env_models[i] = copy.copy(sim.model)
            sim.models[i] = self._env_models[i]
        else:
            self._env_models[i] = sim.model

    def _apply_episodes(self, sim: _RobotSim, rows: np.ndarray, episodes: list[Episode]) -> None:
        b = sim.batch
        ids32 = rows.astype(np.int32)
        b.reset(ids32, stage=mujoco.mjtStage.mjSTAGE_NONE)
        sim.qpos[rows] = np.stack([e.qpos for e in episodes])
        sim.qvel[rows] = np.stack([e.qvel for e in episodes])
        sim.ctrl[rows] = 0.0
        if self.task == "obstacle":
            sim.mocap_pos[rows] = np.stack([e.mocap_pos for e in episodes])
            sim.mocap_quat[rows] = np.stack([e.mocap_quat for e in episodes])
        if self._geometry is not None:
            for i, e in zip(rows, episodes):
                self._grids[i] = e.heights.ravel()
                if self.task == "vt":
                    self._env_models[i].hfield_data[:] = self._grids[i] / self.config.vt_max_height
            if self.task == "vt":
                b.set_models(sim.models)
        try:
            b.forward(ids32)
        except mjbatch.SimulationError as error:  # pragma: no cover - reset states are benign
            raise RuntimeError(f"{sim.robot.name}: MuJoCo failed at reset: {error}") from None
        write_proprioceptive(
            self._proprio, rows, sim.index, sim.xpos, sim.xquat, sim.cvel, sim.subtree_com, sim.qpos, sim.qvel, rows
        )
        self._torso[rows] = sim.qpos[rows, sim.root : sim.root + 7]
        self._x_prev[rows] = self._torso[rows, 0]
        self._warn_prev[rows] = sim.warnings_of(rows)

    def _update_heightmaps(self, ids: np.ndarray) -> None:
        torso = self._torso[ids]
        hm, under = heightmaps(
            self._grids_flat, ids, self._geometry, self._offsets, torso[:, :2], heading_from_quat(torso[:, 3:7])
        )
        self._heightmap[ids] = hm
        self._ground[ids] = under
