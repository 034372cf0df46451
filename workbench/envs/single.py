"""One robot in one task, as a Gymnasium environment (MuJoCo v5 style API)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from workbench.envs import layout as L
from workbench.envs.config import EnvConfig, check_task
from workbench.envs.core import EpisodeDrawer, action_space, fall_reference, observation_space
from workbench.envs.observation import ObsIndex, write_proprioceptive
from workbench.envs.physics import install_quiet_warning_handler, unstable_mask
from workbench.envs.robot import CompiledRobot, compile_robot, write_terrain
from workbench.envs.terrain import ground_height, heading_from_quat, heightmap_offsets, heightmaps

_ZERO_INDEX = np.zeros(1, np.int64)


class UnimalEnv(gym.Env):
    """A UNIMAL robot on flat terrain (``ft``), variable terrain (``vt``) or obstacles.

    Observation: dict (see :mod:`workbench.envs.layout`); action: Box(-1, 1, (24,)),
    padded slots ignored. Reward: forward velocity of the torso along x. Episodes end
    on a fall, on leaving the strip (VT / Obstacle), on a physics blow-up
    (``info["physics_unstable"]``), or are truncated after ``max_episode_steps``.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(
        self,
        morphology: Any,
        task: str = "ft",
        render_mode: str | None = None,
        config: EnvConfig | None = None,
        width: int = 480,
        height: int = 480,
    ) -> None:
        self.config = config or EnvConfig()
        self.task = check_task(task)
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        install_quiet_warning_handler()
        self.robot: CompiledRobot = compile_robot(morphology, self.task, self.config)
        self.model = self.robot.model
        self.data = mujoco.MjData(self.model)
        self.tables = self.robot.tables
        self._index = ObsIndex(self.tables)
        self.metadata = {**self.metadata, "render_fps": int(round(1.0 / self.config.dt))}
        self.observation_space = observation_space(self.task)
        self.action_space = action_space()
        self.width, self.height = width, height

        self._drawer = EpisodeDrawer(self.task, self.config)
        self._geometry = self._drawer.geometry
        self._offsets = heightmap_offsets(self.config) if self._geometry is not None else None
        self._grid = None  # flat float32 height grid of the current episode
        self._fall_height = fall_reference(self.task, self.config, self.tables)
        self._proprio = np.zeros((1, L.MAX_LIMBS, L.PROPRIOCEPTIVE.size), np.float32)
        self._proprio[0] = self.tables.static_obs
        self._context = self.robot.context.astype(np.float32)
        self._hfield_id = self.model.hfield("terrain").id if self.task == "vt" else -1
        self._terrain_version = 0
        self._renderer = None
        self._steps = 0
        self._x = 0.0
        self._warnings = 0

    # ------------------------------------------------------------------ properties
    @property
    def name(self) -> str:
        return self.robot.name

    @property
    def dt(self) -> float:
        return self.config.dt

    @property
    def terrain_version(self) -> int:
        """Incremented whenever the terrain changes (renderers re-upload the height field)."""
        return self._terrain_version

    # ------------------------------------------------------------------ gym API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        episode = self._drawer.draw(self.np_random, self.tables)
        mujoco.mj_resetData(self.model, self.data)
        if episode.heights is not None:
            self._grid = episode.heights.ravel()
            if self.task == "vt":
                write_terrain(self.model, episode.heights, self.config)
            self._terrain_version += 1
        if episode.mocap_pos is not None:
            self.data.mocap_pos[:] = episode.mocap_pos
            self.data.mocap_quat[:] = episode.mocap_quat
        self.data.qpos[:] = episode.qpos
        self.data.qvel[:] = episode.qvel
        # Position and velocity stages only: all the first observation needs (the solver's
        # warm start stays zero, exactly as in the vector env's staged resets).
        mujoco.mj_fwdPosition(self.model, self.data)
        mujoco.mj_fwdVelocity(self.model, self.data)
        self._steps = 0
        self._x = float(self.data.qpos[self.tables.root_qpos])
        self._warnings = sum(w.number for w in self.data.warning)
        obs = self._observation()
        return obs, self._info(0.0, False, False, False)

    def step(self, action):
        action = np.asarray(action, dtype=np.float64).reshape(L.ACTION_DIM)
        self.data.ctrl[:] = np.clip(action[self.tables.ctrl_slot], -1.0, 1.0)
        x_before = self._x
        mujoco.mj_step(self.model, self.data, nstep=self.config.frame_skip)
        self._steps += 1

        warnings_now = sum(w.number for w in self.data.warning)
        unstable = bool(
            warnings_now > self._warnings
            or unstable_mask(self.data.qvel[None], self.data.qacc[None], self.config.max_qvel, self.config.max_qacc)[0]
            or not np.isfinite(self.data.qpos).all()
        )
        self._warnings = warnings_now
        root = self.tables.root_qpos
        x_after = float(self.data.qpos[root])
        reward = 0.0 if unstable else (x_after - x_before) / self.config.dt
        self._x = x_after
        obs = self._observation()
        if unstable:
            for key, value in obs.items():
                np.nan_to_num(value, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        fell, out = self._fell_or_out()
        terminated = bool(unstable or fell or out)
        truncated = bool(not terminated and self._steps >= self.config.max_episode_steps)
        info = self._info(reward, fell, out, unstable)
        return obs, float(reward), terminated, truncated, info

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:
            from workbench.rendering.camera import TrackingRenderer

            self._renderer = TrackingRenderer(self.model, width=self.width, height=self.height)
        return self._renderer.render(self.data, terrain_version=self._terrain_version)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # ------------------------------------------------------------------ helpers
    def _torso(self) -> np.ndarray:
        root = self.tables.root_qpos
        return self.data.qpos[root : root + 7]

    def _observation(self) -> dict[str, np.ndarray]:
        d = self.data
        write_proprioceptive(
            self._proprio,
            slice(None),
            self._index,
            d.xpos[None],
            d.xquat[None],
            d.cvel[None],
            d.subtree_com[None],
            d.qpos[None],
            d.qvel[None],
            slice(None),
        )
        obs = {
            L.OBS_PROPRIOCEPTIVE: self._proprio[0].copy(),
            L.OBS_CONTEXT: self._context.copy(),
            L.OBS_LIMB_MASK: self.tables.limb_mask.copy(),
            L.OBS_ACTION_MASK: self.tables.action_mask.copy(),
        }
        if self._geometry is not None:
            torso = self._torso()
            hm, _ = heightmaps(
                self._grid, _ZERO_INDEX, self._geometry, self._offsets, torso[None, :2], heading_from_quat(torso[None, 3:7])
            )
            obs[L.OBS_HEIGHTMAP] = hm[0]
        return obs

    def _ground(self) -> float:
        if self.task != "vt":
            return 0.0  # FT and Obstacle: the floor (standing on a box is not falling)
        return float(ground_height(self._grid, _ZERO_INDEX, self._geometry, self._torso()[None, :2])[0])

    def _fell_or_out(self) -> tuple[bool, bool]:
        torso = self._torso()
        fell = bool(torso[2] - self._ground() < self._fall_height)
        out = False
        if self._geometry is not None:
            g = self._geometry
            out = bool(not (g.y0 <= torso[1] <= g.y1) or not (g.x0 <= torso[0] <= g.x1))
        return fell, out

    def _info(self, reward: float, fell: bool, out: bool, unstable: bool) -> dict[str, Any]:
        torso = self._torso()
        return {
            "reward_forward": float(reward),
            "x_position": float(torso[0]),
            "y_position": float(torso[1]),
            "torso_height": float(torso[2]),
            "fell": bool(fell),
            "out_of_strip": bool(out),
            "physics_unstable": bool(unstable),
            "episode_step": int(self._steps),
            "robot": self.robot.name,
        }


def make_env(
    morphology: Any,
    task: str = "ft",
    render_mode: str | None = None,
    config: EnvConfig | None = None,
    **kwargs: Any,
) -> UnimalEnv:
    """A Gymnasium env for ``morphology`` (Morphology, UNIMAL XML path or built-in name)."""
    return UnimalEnv(morphology, task=task, render_mode=render_mode, config=config, **kwargs)
