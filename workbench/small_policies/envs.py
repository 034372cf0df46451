"""Environments: Gymnasium MuJoCo v5 tasks as they are, or one UNIMAL robot (FT) with a flat observation.

The UNIMAL wrapper keeps only the robot's real limbs' proprioceptive rows (``n * 52`` values) and real
action slots, so a small actor sees exactly what its deployed ``.npz`` will read (see ``export.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from workbench.envs import layout
from workbench.envs.single import make_env as make_unimal_env
from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class Layout:
    """Where a flat observation/action sits in the deploy runtime's padded (12, 52) / (24,) layout."""

    limb_slots: tuple[int, ...]
    state_size: int
    action_slots: tuple[int, ...]


class UnimalFlat(gym.Wrapper):
    """A single UNIMAL robot (task FT) with Box observation ``(n * 52,)`` and Box action ``(a,)``."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.limbs = np.flatnonzero(env.unwrapped.tables.limb_mask > 0)
        self.slots = np.flatnonzero(env.unwrapped.tables.action_mask > 0)
        size = len(self.limbs) * layout.PROPRIOCEPTIVE.size
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (size,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (len(self.slots),), np.float32)

    def _flat(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        return obs[layout.OBS_PROPRIOCEPTIVE][self.limbs].reshape(-1).astype(np.float32)

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        return self._flat(obs), info

    def step(self, action):
        full = np.zeros(layout.ACTION_DIM, np.float32)
        full[self.slots] = action
        obs, reward, terminated, truncated, info = self.env.step(full)
        return self._flat(obs), reward, terminated, truncated, info


def make(name: str, render_mode: str | None = None) -> gym.Env:
    """``Hopper-v5``-style ids go to Gymnasium; anything else is a UNIMAL robot name or XML path (FT)."""
    if "-v" in name and not name.endswith(".xml"):
        try:
            return gym.make(name, render_mode=render_mode)
        except gym.error.Error as error:
            raise WorkbenchError(f"unknown environment {name!r} ({error.__class__.__name__})") from None
    try:
        return UnimalFlat(make_unimal_env(name, "ft", render_mode=render_mode))
    except WorkbenchError as error:
        raise WorkbenchError(f"unknown environment or robot {name!r}: {error}") from None
    except (FileNotFoundError, KeyError, ValueError) as error:
        raise WorkbenchError(f"unknown environment or robot {name!r} ({error.__class__.__name__})") from None


def deploy_layout(env: gym.Env) -> Layout:
    """The padded-layout slots of ``env``'s flat observation and action."""
    act = int(env.action_space.shape[0])
    if isinstance(env, UnimalFlat):
        return Layout(tuple(int(i) for i in env.limbs), layout.PROPRIOCEPTIVE.size, tuple(int(i) for i in env.slots))
    obs = int(env.observation_space.shape[0])
    if obs > layout.PROPRIOCEPTIVE.size or act > layout.ACTION_DIM:
        raise WorkbenchError(f"observation {obs} or action {act} too large for the deploy runtime's layout")
    return Layout((0,), obs, tuple(range(act)))


def pack_observation(flat: np.ndarray, lay: Layout) -> dict[str, np.ndarray]:
    """A flat observation (or batch) -> the deploy runtime's ``{"proprioceptive": (12, 52)}``."""
    flat = np.asarray(flat, np.float32)
    batch = flat.shape[:-1]
    out = np.zeros((*batch, layout.MAX_LIMBS, layout.PROPRIOCEPTIVE.size), np.float32)
    out[..., list(lay.limb_slots), : lay.state_size] = flat.reshape(*batch, len(lay.limb_slots), lay.state_size)
    return {layout.OBS_PROPRIOCEPTIVE: out}
