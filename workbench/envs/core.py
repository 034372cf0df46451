"""Pieces shared by the single and the vectorised environment: observation spaces
and the per-episode draws (terrain, obstacles, reset noise) from the episode's RNG.

Both environments call :func:`draw_episode` with a generator in the same state
(Gymnasium's ``np_random`` seeded with ``seed`` for the single env, ``seed + i``
for slot i of the vector env), so they draw the same episodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from workbench.envs import layout as L
from workbench.envs.config import EnvConfig
from workbench.envs.robot import RobotTables, obstacle_sizes
from workbench.envs.terrain import GridGeometry, place_obstacles, rasterise_obstacles, variable_terrain


def observation_space(task: str) -> spaces.Dict:
    inf = np.float32(np.inf)
    parts = {
        L.OBS_PROPRIOCEPTIVE: spaces.Box(-inf, inf, (L.MAX_LIMBS, L.PROPRIOCEPTIVE.size), np.float32),
        L.OBS_CONTEXT: spaces.Box(-inf, inf, (L.MAX_LIMBS, L.CONTEXT.size), np.float32),
        L.OBS_LIMB_MASK: spaces.Box(0.0, 1.0, (L.MAX_LIMBS,), np.float32),
        L.OBS_ACTION_MASK: spaces.Box(0.0, 1.0, (L.ACTION_DIM,), np.float32),
    }
    if task in ("vt", "obstacle"):
        parts[L.OBS_HEIGHTMAP] = spaces.Box(-inf, inf, (L.HEIGHTMAP_SIZE,), np.float32)
    return spaces.Dict(parts)


def action_space() -> spaces.Box:
    return spaces.Box(-1.0, 1.0, (L.ACTION_DIM,), np.float32)


def yaw_quaternions(yaw: np.ndarray) -> np.ndarray:
    half = 0.5 * yaw
    return np.stack([np.cos(half), np.zeros_like(half), np.zeros_like(half), np.sin(half)], axis=-1)


@dataclass
class Episode:
    """What one reset draws."""

    qpos: np.ndarray
    qvel: np.ndarray
    heights: np.ndarray | None  # (nrow, ncol) float32 height grid (VT, Obstacle)
    mocap_pos: np.ndarray | None  # (n, 3) obstacle positions
    mocap_quat: np.ndarray | None  # (n, 4)


class EpisodeDrawer:
    """Draws terrain / obstacles and reset noise for one task and configuration."""

    def __init__(self, task: str, config: EnvConfig) -> None:
        self.task = task
        self.config = config
        self.geometry = GridGeometry.for_task(task, config) if task in ("vt", "obstacle") else None
        self.obstacle_half_sizes = obstacle_sizes(config) if task == "obstacle" else None

    def draw(self, rng: np.random.Generator, tables: RobotTables) -> Episode:
        heights = mocap_pos = mocap_quat = None
        if self.task == "vt":
            heights = variable_terrain(rng, self.geometry, self.config)
        elif self.task == "obstacle":
            centres, yaw = place_obstacles(rng, self.obstacle_half_sizes, self.geometry, self.config)
            heights = rasterise_obstacles(centres, yaw, self.obstacle_half_sizes, self.geometry)
            mocap_pos = np.concatenate([centres, np.zeros((len(centres), 1))], axis=1)
            mocap_quat = yaw_quaternions(yaw)
        s = self.config.reset_noise_scale
        noise = rng.uniform(-s, s, tables.nq + tables.nv)  # one draw: qpos noise, then qvel
        qpos = tables.qpos0 + noise[: tables.nq]
        qvel = noise[tables.nq :]
        return Episode(qpos=qpos, qvel=qvel, heights=heights, mocap_pos=mocap_pos, mocap_quat=mocap_quat)


def fall_reference(task: str, config: EnvConfig, tables: RobotTables) -> float:
    """Torso height (above the ground) below which the episode terminates."""
    fraction = config.fall_fraction_vt if task == "vt" else config.fall_fraction
    # The robot starts floor_clearance above the ground; the reference height is the torso's
    # height once it stands on the floor, as in the published UNIMAL environments.
    return fraction * (tables.init_height - config.floor_clearance)
