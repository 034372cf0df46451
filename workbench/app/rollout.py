"""One rendered episode of a policy on a robot: the MP4 and the per-step reward and position."""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

ActFn = Callable[[dict[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class Rollout:
    """A recorded episode (possibly cut at the page's step limit)."""

    video: bytes
    """H.264 MP4, one frame per control step."""
    rewards: np.ndarray
    """(T,) reward of every step (forward velocity of the torso, m/s)."""
    x_positions: np.ndarray
    """(T,) torso x position after every step (m)."""
    dt: float
    """Seconds per control step."""
    end: str
    """Why the episode stopped: fell, left the strip, physics unstable, time limit or step limit."""

    @property
    def steps(self) -> int:
        return int(len(self.rewards))

    @property
    def episode_return(self) -> float:
        return float(np.sum(self.rewards))

    @property
    def distance(self) -> float:
        """Forward distance covered (m): the reward is the forward velocity over one step."""
        return self.episode_return * self.dt


def _end_reason(terminated: bool, truncated: bool, info: dict[str, Any]) -> str | None:
    if info.get("physics_unstable"):
        return "physics unstable"
    if info.get("fell"):
        return "fell"
    if info.get("out_of_strip"):
        return "left the strip"
    if terminated:
        return "terminated"
    if truncated:
        return "episode time limit"
    return None


def run_episode(morphology: Any, act: ActFn, task: str = "ft", max_steps: int = 300, seed: int = 0,
                width: int = 480, height: int = 360, on_step: Callable[[int], None] | None = None) -> Rollout:
    """Run one episode of ``act`` (``obs -> action``) for at most ``max_steps`` steps, rendering every
    step with the tracking camera, and encode the frames as an MP4.

    ``on_step(t)`` is called after step t (1-based), for progress bars.
    """
    from workbench.envs import EnvConfig
    from workbench.rendering import render_frames, write_video

    dt = EnvConfig().dt
    rewards: list[float] = []
    xs: list[float] = []
    end: list[str] = []

    def record(obs: dict, reward: float, terminated: bool, truncated: bool, info: dict) -> None:
        rewards.append(float(reward))
        xs.append(float(info["x_position"]))
        reason = _end_reason(terminated, truncated, info)
        if reason is not None:
            end.append(reason)

    def frames() -> Iterator[np.ndarray]:
        source = render_frames(morphology, task=task, steps=max_steps, policy_fn=act, seed=seed, width=width,
                               height=height, on_step=record)
        with contextlib.closing(source):  # closes the env as soon as the episode ends
            for frame in source:
                yield frame
                if on_step is not None:
                    on_step(len(rewards))
                if end:
                    return

    with tempfile.TemporaryDirectory(prefix="workbench-rollout-") as folder:
        path = Path(folder) / "episode.mp4"
        write_video(frames(), path, fps=1.0 / dt, progress=False)
        video = path.read_bytes()
    return Rollout(video=video, rewards=np.asarray(rewards), x_positions=np.asarray(xs), dt=dt,
                   end=end[0] if end else f"step limit ({max_steps})")
