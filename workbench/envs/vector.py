"""Many copies of many robots in one object, stepped in batches.

Physics runs in :class:`mujoco.batch.Batch` objects, one per robot (every env slot
has a row in every robot's batch; an env steps in the batch of the robot it runs):
one C call advances all envs of a robot by ``frame_skip`` substeps on a thread pool
that releases the GIL; several robots are stepped concurrently from a small
persistent Python thread pool. Observations are gathered from the batches' bound
fields with precomputed index arrays and assembled in numpy over the whole batch; when
one robot runs in every env, a compiled kernel (:mod:`workbench.envs.kernels`) does the
observation and the blow-up checks in one pass instead.

Resets are *staged*: each env's next episodes (robot, obstacles, reset noise, drawn
from the env's own RNG in the same order as the single env draws them) are prepared
ahead of time in a staging batch, many per call (up to ``STAGE_DEPTH`` per env),
together with their first observations. An auto-reset then only copies a state row
and an observation row. (VT stages at reset time: the terrain of the next episode
lives in the env's own height field.)

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
from workbench.envs.core import EpisodeDrawer, action_space, fall_reference, observation_space
from workbench.envs.kernels import observe_single_robot
from workbench.envs.observation import GroupIndex, ObsIndex, PaddedGather, write_proprioceptive
from workbench.envs.physics import install_quiet_warning_handler
from workbench.envs.robot import CompiledRobot, compile_robot, write_terrain
from workbench.envs.terrain import heading_from_quat, heightmap_offsets, heightmaps
from workbench.errors import WorkbenchError
from workbench.morphology import load_robots


# Episodes staged ahead per env: bulk staging amortises its per-call cost over more
# episodes. VT and Obstacle keep one (their scenery is large: height fields, grids).
STAGE_DEPTH = {"ft": 4, "obstacle": 1, "vt": 1}
STAGE_MAX_ROWS = 4096  # staging rows (robots x envs x depth) beyond which the depth drops to 1
# Total MuJoCo arena (virtual) allowed for persistent batches (one MjData per env slot).
# Measured on the 2-core machine, shared-MjData batches step as fast or faster, with far
# less memory, so persistent batches are off (0); raise this to turn them on.
PERSISTENT_MAX_ARENA = 0


def _as_robot_list(morphologies: Any) -> list:
    if isinstance(morphologies, (list, tuple)):
        return list(morphologies)
    if isinstance(morphologies, (str, os.PathLike)):
        path = os.fspath(morphologies)
        if path.lower().endswith(".xml"):
            return [path]
        return list(load_robots(path))
    return [morphologies]


class _Rows:
    """A Batch and the live views of the fields the env reads and writes."""

    def __init__(self, model: mujoco.MjModel, nsim: int, nthread: int, task: str, persistent: bool = False) -> None:
        b = mjbatch.Batch(model, nsim, nthread=nthread, persistent=persistent)
        self.batch = b
        self.qpos = b.bind("qpos")
        self.qvel = b.bind("qvel")
        self.ctrl = b.bind("ctrl")
        self.xpos = b.bind("xpos")
        self.xquat = b.bind("xquat")
        self.cvel = b.bind("cvel")
        self.subtree_com = b.bind("subtree_com")
        self.qacc = b.bind("qacc")
        self.warning = b.warning
        if task == "obstacle":
            self.mocap_pos = b.bind("mocap_pos")
            self.mocap_quat = b.bind("mocap_quat")
        # Once: the default state row (mj_resetData, no forward: zero warm start), written
        # directly at every episode start.
        b.reset(stage=mujoco.mjtStage.mjSTAGE_NONE)
        self.state_template = b.state[0].copy()
        self.state = b.state
        self.status = b.status
        raw = getattr(b, "_b", None)
        self.raw_step = getattr(raw, "step", None)

    def warnings_of(self, rows) -> np.ndarray:
        return self.warning[rows, :, 1].sum(axis=-1)


class _RobotSim:
    """One robot: compiled model, tables, and its active and staging batches (lazy)."""

    def __init__(self, robot: CompiledRobot, num_envs: int, num_threads: int, task: str, persistent: bool) -> None:
        self.robot = robot
        self.persistent = persistent
        self.stage_threads = 1  # the env sets num_threads when it has a single robot
        self.stage_depth = STAGE_DEPTH[task]
        self.model = robot.model
        self.tables = robot.tables
        self.index = ObsIndex(robot.tables)
        self.num_envs = num_envs
        self.num_threads = num_threads
        self.task = task
        self.fall_height = fall_reference(task, robot.config, robot.tables)
        self.root = robot.tables.root_qpos
        self._active: _Rows | None = None
        # Sum of the active batch's warning counters last seen: the numpy path's shortcut only
        # (the compiled single-robot step keeps per-env counts in _warn_prev and leaves this as is).
        self.warn_total = 0
        self._stage: _Rows | None = None
        self.models: list[mujoco.MjModel] | None = None  # VT: per-slot models (own height field)

    @property
    def active(self) -> _Rows:
        if self._active is None:
            self._active = _Rows(self.model, self.num_envs, self.num_threads, self.task, self.persistent)
            self._sync_models()
        return self._active

    @property
    def stage(self) -> _Rows:
        if self._stage is None:
            self._stage = _Rows(self.model, self.num_envs * self.stage_depth, self.stage_threads, self.task)
            self._sync_models()
        return self._stage

    def set_slot_model(self, slot: int, model: mujoco.MjModel | None) -> None:
        """VT: run env ``slot`` on ``model`` (None: the robot's shared model)."""
        if self.models is None:
            self.models = [self.model] * self.num_envs
        self.models[slot] = self.model if model is None else model
        self._sync_models()

    def _sync_models(self) -> None:
        if self.models is None:
            return
        for rows in (self._active, self._stage):
            if rows is not None:
                rows.batch.set_models(self.models)


class VectorUnimalEnv:
    """``num_envs`` environments over ``morphologies`` (a list of robots), one task.

    Observation: the single env's dict with a leading (num_envs,) axis. ``step`` takes
    (num_envs, 24) actions and returns obs, reward, terminated, truncated, info.
    ``info`` always holds, per env: ``reward_forward``, ``x_position``,
    ``fell``, ``physics_unstable``, ``out_of_strip`` (VT, Obstacle),
    ``robot_index`` (the robot that ran this step), ``episode_return`` and
    ``episode_length`` (NaN where the env did not finish), and, when some env
    finished, ``final_obs`` (batched dict; rows valid where done) and
    ``final_info_mask``.

    Seeding: ``reset(seed=s)`` seeds env i's generator with ``s + i`` (so env i draws
    the episodes a single env reset with seed ``s + i`` draws) and the robot sampler
    with ``(s, 7919)``.
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
        self.num_threads = max(1, int(num_threads or min(os.cpu_count() or 1, 8)))
        # Persistent batches (one MjData per env slot, ~250 KB each) step faster; with many
        # robots x envs the shared-MjData batches keep the memory small.
        from workbench.envs.robot import ARENA_BYTES

        persistent = len(robots) * self.num_envs * ARENA_BYTES[self.task] <= PERSISTENT_MAX_ARENA
        self._sims = [
            _RobotSim(compile_robot(r, self.task, self.config), self.num_envs, self.num_threads, self.task, persistent)
            for r in robots
        ]
        if len(self._sims) == 1:
            self._sims[0].stage_threads = self.num_threads
        else:
            # Several robots: the groups run on the env's own worker threads, and each robot's
            # batch steps on its caller's thread only (one MjData per batch, not num_threads).
            for sim in self._sims:
                sim.num_threads = 1
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
            self._staged_grids = np.zeros((B, cells), np.float32) if self.task == "obstacle" else None  # depth 1
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
        self._nan = np.full(B, np.nan)
        # Staged next episodes.
        K = self._depth = STAGE_DEPTH[self.task]
        if self.num_robots * B * K > STAGE_MAX_ROWS:  # every robot has a staging row per env and depth
            K = self._depth = 1
        for sim in self._sims:
            sim.stage_depth = K
        self._head = np.zeros(B, np.int64)  # slot (0..K-1) of each env's next staged episode
        self._count = np.zeros(B, np.int64)  # episodes staged per env
        self._staged_robot = np.zeros(K * B, np.int64)  # staged rows: slot k of env i is k * B + i
        self._staged_proprio = np.zeros((K * B, L.MAX_LIMBS, L.PROPRIOCEPTIVE.size), np.float32)
        self._staged_torso = np.zeros((K * B, 7))
        self._padded = PaddedGather(B)
        self._chunks: list[list] = []

        self.robot_index = np.full(B, -1, np.int64)
        self._probabilities: np.ndarray | None = None
        self._rngs = [np.random.default_rng() for _ in range(B)]
        self._robot_rng = np.random.default_rng()
        self._groups: list[tuple[_RobotSim, Any, Any]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._needs_reset = True
        self._all = np.arange(B)

    # ------------------------------------------------------------------ public API
    @property
    def probabilities(self) -> np.ndarray | None:
        return None if self._probabilities is None else self._probabilities.copy()

    def set_robot_probabilities(self, p: Sequence[float] | np.ndarray | None) -> None:
        """From the next auto-reset on, each env draws its robot from ``p`` (None: env i -> robot i % R)."""
        if p is not None:
            p = np.asarray(p, dtype=np.float64).reshape(-1)
            if p.shape != (self.num_robots,) or not np.isfinite(p).all() or (p < 0).any() or p.sum() <= 0:
                raise ValueError(
                    f"robot probabilities must be {self.num_robots} non-negative finite values with a positive sum"
                )
            p = p / p.sum()
        self._probabilities = p
        self._count[:] = 0  # staged episodes drew their robot from the old probabilities

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rngs = [np.random.default_rng(seed + i) for i in range(self.num_envs)]
            self._robot_rng = np.random.default_rng([seed, 7919])
        self._count[:] = 0
        self._steps[:] = 0
        self._returns[:] = 0.0
        self._refill(self._all)
        self._activate(self._all)
        self._needs_reset = False
        return self._obs_dict(), {"robot_index": self.robot_index.copy()}

    def step(self, actions: np.ndarray):
        if self._needs_reset:
            raise RuntimeError("call reset() before step()")
        actions = np.asarray(actions, dtype=np.float64)
        if actions.shape != (self.num_envs, L.ACTION_DIM):
            raise ValueError(f"actions must have shape ({self.num_envs}, {L.ACTION_DIM}), got {actions.shape}")
        cfg = self.config
        unstable = self._unstable = np.zeros(self.num_envs, bool)
        self._run_groups(actions)
        torso = self._torso
        if self._groups[0][3] is not None:
            self._padded.compute(self._proprio)
        x = torso[:, 0].copy()
        reward = x - self._x_prev
        reward /= cfg.dt
        self._x_prev = x  # replaced, never written in place: info["x_position"] shares it
        if unstable.any():
            reward[unstable] = 0.0
            np.nan_to_num(self._proprio, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
            np.nan_to_num(torso, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        height = torso[:, 2]
        out = None
        if self._geometry is not None:
            self._update_heightmaps(self._all)
            if self.task == "vt":
                height = height - self._ground
            g = self._geometry
            out = (torso[:, 1] < g.y0) | (torso[:, 1] > g.y1) | (torso[:, 0] < g.x0) | (torso[:, 0] > g.x1)
        fell = height < self._fall_height
        terminated = fell | unstable
        if out is not None:
            terminated |= out
        steps = self._steps
        steps += 1
        self._returns += reward
        if steps.max() >= cfg.max_episode_steps:
            truncated = steps >= cfg.max_episode_steps
            truncated &= ~terminated
            done = terminated | truncated
        else:
            truncated = np.zeros(self.num_envs, bool)
            done = terminated
        obs = self._obs_dict()
        info: dict[str, Any] = {
            "reward_forward": reward,
            "x_position": x,
            "fell": fell,
            "physics_unstable": unstable,
            "robot_index": self.robot_index,  # replaced (never written in place) when robots change
        }
        if out is not None:
            info["out_of_strip"] = out
        if done.any():
            ids = np.flatnonzero(done)
            ep_ret = np.where(done, self._returns, np.nan)
            ep_len = np.where(done, steps, np.nan)
            info["final_obs"] = obs
            info["final_info_mask"] = done
            self._steps[ids] = 0
            self._returns[ids] = 0.0
            if not self._count[ids].all():
                self._refill(self._all if self.task != "vt" else ids)
            self._activate(ids)
            obs = self._obs_dict()
        else:
            ep_ret = self._nan.copy()
            ep_len = self._nan.copy()
        info["episode_return"] = ep_ret
        info["episode_length"] = ep_len
        return obs, reward, terminated, truncated, info

    def get_state(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(qpos, qvel) of env ``i`` (copies)."""
        sim = self._sims[int(self.robot_index[i])]
        return sim.active.qpos[i].copy(), sim.active.qvel[i].copy()

    def set_state(self, i: int, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Overwrite env ``i``'s qpos / qvel (tests, debugging); takes effect at the next step.

        The episode continues: ``x`` for the next reward is the new torso x."""
        sim = self._sims[int(self.robot_index[i])]
        sim.active.qpos[i] = qpos
        sim.active.qvel[i] = qvel
        self._x_prev = self._x_prev.copy()
        self._x_prev[i] = sim.active.qpos[i, sim.root]

    # ------------------------------------------------------------------ exact resume (trainer checkpoints)
    # Added by the training helper (issue 4): everything a PPO checkpoint needs so that a run
    # interrupted and resumed continues bit-exactly. Plain numpy arrays, ints and RNG state dicts.
    _STATE_ARRAYS = (
        "_proprio", "_context", "_limb_mask", "_action_mask", "_torso", "_x_prev", "_fall_height",
        "_warn_prev", "_steps", "_returns", "robot_index", "_staged", "_head", "_count", "_staged_robot", "_staged_proprio",
        "_staged_torso", "_grids", "_heightmap", "_ground", "_staged_grids",
    )

    def state_dict(self) -> dict[str, Any]:
        """The complete dynamic state: every env slot's MuJoCo integration state (active and staged
        episodes), episode counters and returns, robot assignment and probabilities, observations
        and the RNG states. ``load_state_dict`` on an env built with the same robots, task, config
        and num_envs continues exactly as this one would."""
        sims = []
        for sim in self._sims:
            entry: dict[str, Any] = {"warn_total": int(sim.warn_total)}
            for name in ("_active", "_stage"):
                rows = getattr(sim, name)
                entry[name] = None if rows is None else {
                    "state": np.array(rows.state, copy=True),
                    "warning": np.array(rows.warning, copy=True),
                }
            sims.append(entry)
        arrays = {}
        for name in self._STATE_ARRAYS:
            value = getattr(self, name, None)
            if value is not None:
                arrays[name] = np.array(value, copy=True)
        return {
            "task": self.task,
            "num_envs": self.num_envs,
            "robot_names": list(self.robot_names),
            "sims": sims,
            "arrays": arrays,
            "probabilities": None if self._probabilities is None else self._probabilities.copy(),
            "rngs": [rng.bit_generator.state for rng in self._rngs],
            "robot_rng": self._robot_rng.bit_generator.state,
            "needs_reset": bool(self._needs_reset),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (same robots, task and num_envs, else WorkbenchError)."""
        if (
            state.get("task") != self.task
            or int(state.get("num_envs", -1)) != self.num_envs
            or list(state.get("robot_names", [])) != list(self.robot_names)
        ):
            raise WorkbenchError("saved vector-env state is for other robots, task or env count")
        arrays = state["arrays"]
        robots = np.asarray(arrays["robot_index"], np.int64)
        if self.task == "vt":
            for i, r in enumerate(robots.tolist()):
                if r >= 0:
                    self._install_vt_model(i, r)
        for name, value in arrays.items():
            current = getattr(self, name, None)
            if current is None:
                continue
            if name == "_grids":  # _grids_flat is a view of it: write in place
                current[...] = value
            else:
                setattr(self, name, np.array(value, copy=True))
        if self.task == "vt":
            for i, r in enumerate(robots.tolist()):
                if r >= 0:
                    heights = self._grids[i].reshape(self._geometry.nrow, self._geometry.ncol)
                    write_terrain(self._env_models[i], heights, self.config, visual=False)
        for i, r in enumerate(robots.tolist()):
            if r >= 0:
                self._padded.assign(i, self._sims[r].index)
        if (robots >= 0).all():
            self._rebuild_groups()
        for sim, entry in zip(self._sims, state["sims"]):
            for name, prop in (("_active", "active"), ("_stage", "stage")):
                saved = entry.get(name)
                if saved is None:
                    continue
                rows = getattr(sim, prop)  # creates the batch if needed
                rows.state[...] = saved["state"]
                try:
                    rows.warning[...] = saved["warning"]
                except (ValueError, TypeError):  # read-only view: the counters restart
                    pass
            sim.warn_total = int(entry["warn_total"])
        self._probabilities = None if state["probabilities"] is None else np.array(state["probabilities"], np.float64)
        self._rngs = [np.random.default_rng() for _ in range(self.num_envs)]
        for rng, saved in zip(self._rngs, state["rngs"]):
            rng.bit_generator.state = saved
        self._robot_rng = np.random.default_rng()
        self._robot_rng.bit_generator.state = state["robot_rng"]
        self._needs_reset = bool(state["needs_reset"])

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

    def _run_groups(self, actions: np.ndarray) -> None:
        """Controls, physics, raw observation gathers and blow-up checks of every robot group.

        One group: directly (the batch's own threads run the physics). Several groups:
        num_threads workers (the caller included) each take a balanced chunk of groups;
        a worker's numpy gathers for one group overlap the physics of the others (MuJoCo
        releases the GIL)."""
        if len(self._chunks) == 1:
            self._run_chunk(self._chunks[0], actions)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.num_threads - 1, thread_name_prefix="unimal-physics")
        futures = [self._pool.submit(self._run_chunk, chunk, actions) for chunk in self._chunks[1:]]
        self._run_chunk(self._chunks[0], actions)
        for future in futures:
            future.result()

    def _run_chunk(self, chunk: list, actions: np.ndarray) -> None:
        cfg = self.config
        nstep = cfg.frame_skip
        unstable, torso = self._unstable, self._torso
        for sim, rows, ids, g in chunk:
            a = sim._active  # created when the env started its episode
            if g is None:
                np.take(actions, sim.tables.ctrl_slot, axis=1, out=a.ctrl)  # MuJoCo clamps to ctrlrange
            else:
                a.ctrl[g.rows] = actions[g.ctrl]
            if a.raw_step is not None:
                # mujoco.batch.Batch.step minus its per-call argument validation (ids are
                # already sorted, unique, in range, int32); failures are read the same way.
                if a.raw_step(ids, nstep, 0):
                    failed = np.flatnonzero(a.status) if ids is None else ids[a.status[ids] != 0]
                    unstable[failed] = True
            else:
                try:
                    a.batch.step(ids, nstep=nstep)
                except mjbatch.SimulationError as error:  # MuJoCo raised in some simulations
                    unstable[error.ids] = True
            if g is None:  # one robot in every env: one compiled pass over the batch's fields
                observe_single_robot(
                    self._proprio, torso, unstable, self._warn_prev, a.xpos, a.xquat, a.cvel, a.subtree_com,
                    a.qpos, a.qvel, a.qacc, a.warning, *sim.index.kernel_tables, cfg.max_qvel, cfg.max_qacc,
                )
                continue
            self._padded.gather(g, a.xpos, a.xquat, a.cvel, a.subtree_com, a.qpos, a.qvel)
            torso[rows] = a.qpos[g.torso]
            # Blow-up checks: one reduction each over the group; per-env detail only when needed.
            qvel, qacc = a.qvel[rows], a.qacc[rows]
            total = int(a.warning[:, :, 1].sum())
            if (
                total != sim.warn_total
                or not np.abs(qvel).max() <= cfg.max_qvel  # NaN compares False
                or not np.abs(qacc).max() <= cfg.max_qacc
            ):
                w = a.warnings_of(rows)
                bad = w > self._warn_prev[rows]
                bad |= ~(np.abs(qvel).max(axis=1) <= cfg.max_qvel)
                bad |= ~(np.abs(qacc).max(axis=1) <= cfg.max_qacc)
                unstable[rows] |= bad
                self._warn_prev[rows] = w
                sim.warn_total = total

    def _rebuild_groups(self) -> None:
        groups = []
        for r in np.unique(self.robot_index):
            ids = np.flatnonzero(self.robot_index == r)
            sim = self._sims[r]
            if len(ids) == self.num_envs:
                groups.append((sim, slice(None), None, None))
            else:
                groups.append((sim, ids, ids.astype(np.int32), GroupIndex(sim.index, ids, sim.tables.ctrl_slot)))
        self._groups = groups
        # Robot groups are stepped by num_threads workers (the caller included), balanced by env count.
        chunks: list[list] = [[] for _ in range(min(self.num_threads, len(groups)))]
        load = [0] * len(chunks)
        for group in sorted(groups, key=lambda g: -self._group_size(g)):
            k = load.index(min(load))
            chunks[k].append(group)
            load[k] += self._group_size(group)
        self._chunks = chunks

    def _group_size(self, group) -> int:
        rows = group[1]
        return self.num_envs if isinstance(rows, slice) else len(rows)

    def _next_robots(self, ids: np.ndarray) -> np.ndarray:
        if self._probabilities is None:
            return ids % self.num_robots
        return self._robot_rng.choice(self.num_robots, size=len(ids), p=self._probabilities)

    def _refill(self, ids: np.ndarray) -> None:
        """Stage episodes until every env in ``ids`` has ``depth`` of them, all in one go
        (each env's episodes drawn in order from its own generator)."""
        B, K = self.num_envs, self._depth
        envs, slots = [], []
        for layer in range(K):
            need = ids[self._count[ids] + layer < K]
            if need.size == 0:
                break
            envs.append(need)
            slots.append(((self._head[need] + self._count[need] + layer) % K) * B + need)
        if not envs:
            return
        self._stage(np.concatenate(envs), np.concatenate(slots))
        self._count[ids] = K

    def _stage(self, ids: np.ndarray, slots: np.ndarray) -> None:
        """Draw and prepare the next episode of envs ``ids`` in staged rows ``slots``: robot,
        scenery, initial state and first observation, in the robots' staging batches."""
        robots = self._next_robots(ids)
        self._staged_robot[slots] = robots
        for r in np.unique(robots):
            sim = self._sims[int(r)]
            pick = robots == r
            envs, rows = ids[pick], slots[pick]
            episodes = [self._drawer.draw(self._rngs[i], sim.tables) for i in envs]
            order = np.argsort(rows)  # MuJoCo's batch calls want sorted rows
            envs, rows, episodes = envs[order], rows[order], [episodes[k] for k in order]
            st = sim.stage
            st.state[rows] = st.state_template
            st.qpos[rows] = np.stack([e.qpos for e in episodes])
            st.qvel[rows] = np.stack([e.qvel for e in episodes])
            if self.task == "obstacle":
                st.mocap_pos[rows] = np.stack([e.mocap_pos for e in episodes])
                st.mocap_quat[rows] = np.stack([e.mocap_quat for e in episodes])
                for i, e in zip(envs, episodes):
                    self._staged_grids[i] = e.heights.ravel()
            elif self.task == "vt":
                for i, e in zip(envs, episodes):
                    self._install_vt_model(int(i), int(r))
                    self._grids[i] = e.heights.ravel()
                    write_terrain(self._env_models[i], e.heights, self.config, visual=False)
                sim.set_slot_model(int(envs[0]), self._env_models[int(envs[0])])  # re-sync the batches
            try:
                st.batch.forward(rows.astype(np.int32), stage=mujoco.mjtStage.mjSTAGE_VEL)  # as the single env's reset
            except mjbatch.SimulationError as error:  # pragma: no cover - reset states are benign
                raise RuntimeError(f"{sim.robot.name}: MuJoCo failed at reset: {error}") from None
            self._staged_proprio[rows] = sim.tables.static_obs
            write_proprioceptive(
                self._staged_proprio, rows, sim.index, st.xpos, st.xquat, st.cvel, st.subtree_com, st.qpos, st.qvel, rows
            )
            self._staged_torso[rows] = st.qpos[rows, sim.root : sim.root + 7]

    def _install_vt_model(self, i: int, r: int) -> None:
        """VT: env i gets its own copy of robot r's model (its own height field)."""
        current = self._env_models[i]
        sim = self._sims[r]
        if current is not None and sim.models is not None and sim.models[i] is current:
            return
        if current is not None:
            old = int(self.robot_index[i])
            if old >= 0:
                self._sims[old].set_slot_model(i, None)
        self._env_models[i] = copy.copy(sim.model)
        sim.set_slot_model(i, self._env_models[i])

    def _activate(self, ids: np.ndarray) -> None:
        """Start the staged episodes of envs ``ids``."""
        B, K = self.num_envs, self._depth
        slots = self._head[ids] * B + ids
        robots = self._staged_robot[slots]
        if self.num_robots > 1 or self.robot_index[0] < 0:
            changed = robots != self.robot_index[ids]
            if changed.any():
                for i, r in zip(ids[changed], robots[changed]):
                    sim = self._sims[int(r)]
                    self._padded.assign(int(i), sim.index)
                    self._context[i] = sim.robot.context
                    self._limb_mask[i] = sim.tables.limb_mask
                    self._action_mask[i] = sim.tables.action_mask
                    self._fall_height[i] = sim.fall_height
                self.robot_index = self.robot_index.copy()  # the previous one may be in a returned info
                self.robot_index[ids] = robots
                self._rebuild_groups()
        self._x_prev = x_prev = self._x_prev.copy()  # the previous one may be in a returned info
        if len(ids) <= 4 and self._geometry is None:  # the usual auto-reset: a few envs, row by row
            head, count = self._head, self._count
            for i, k, r in zip(ids.tolist(), slots.tolist(), robots.tolist()):
                sim = self._sims[r]
                a = sim.active
                a.state[i] = sim._stage.state[k]
                self._warn_prev[i] = a.warning[i, :, 1].sum()
                self._proprio[i] = self._staged_proprio[k]
                torso = self._torso[i] = self._staged_torso[k]
                x_prev[i] = torso[0]
                head[i] = (head[i] + 1) % K
                count[i] -= 1
            return
        for r in np.unique(robots):
            sim = self._sims[int(r)]
            pick = robots == r
            rows = ids[pick]
            a, st = sim.active, sim.stage
            a.state[rows] = st.state[slots[pick]]
            self._warn_prev[rows] = a.warnings_of(rows)
        self._proprio[ids] = self._staged_proprio[slots]
        torso = self._torso[ids] = self._staged_torso[slots]
        x_prev[ids] = torso[:, 0]
        if self.task == "obstacle":
            self._grids[ids] = self._staged_grids[ids]
        if self._geometry is not None:
            self._update_heightmaps(ids)
        self._head[ids] = (self._head[ids] + 1) % K
        self._count[ids] -= 1

    def _update_heightmaps(self, ids: np.ndarray) -> None:
        torso = self._torso[ids]
        hm, under = heightmaps(
            self._grids_flat, ids, self._geometry, self._offsets, torso[:, :2], heading_from_quat(torso[:, 3:7])
        )
        self._heightmap[ids] = hm
        self._ground[ids] = under
