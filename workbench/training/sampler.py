"""Which robot an environment runs next: balanced by episode length.

A robot that falls early produces short episodes and so few samples per episode;
the reference recipe samples robots in proportion to ``1000 / moving average of
their episode length`` so every robot contributes a similar number of steps, after
a few iterations of uniform sampling. The vector env applies the probabilities at
each auto-reset (``VectorUnimalEnv.set_robot_probabilities``).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class RobotSampler:
    """Moving-average episode length per robot and the sampling probabilities derived from it.

    Args:
        num_robots: robots in the vector env.
        mode: 'balanced', 'uniform' or 'fixed' (no probabilities: env i keeps robot i % n).
        uniform_iterations: iterations of uniform sampling at the start (balanced mode).
        ema: weight of each newly finished episode in its robot's moving average.
        max_episode_steps: the prior average (episodes run to the time limit until shown otherwise).
    """

    def __init__(
        self,
        num_robots: int,
        mode: str = "balanced",
        uniform_iterations: int = 2,
        ema: float = 0.2,
        max_episode_steps: int = 1000,
    ) -> None:
        if mode not in ("balanced", "uniform", "fixed"):
            raise ValueError(f"unknown robot sampling mode {mode!r}")
        self.num_robots = int(num_robots)
        self.mode = mode
        self.uniform_iterations = int(uniform_iterations)
        self.ema = float(ema)
        self.max_episode_steps = float(max_episode_steps)
        self.episode_length = np.full(self.num_robots, self.max_episode_steps, dtype=np.float64)
        self.episodes = np.zeros(self.num_robots, dtype=np.int64)

    def record(self, robot_indices: np.ndarray, lengths: np.ndarray) -> None:
        """Fold finished episodes (robot index, length) into the moving averages, in order."""
        for robot, length in zip(np.asarray(robot_indices, dtype=np.int64), np.asarray(lengths, dtype=np.float64)):
            self.episode_length[robot] += self.ema * (length - self.episode_length[robot])
            self.episodes[robot] += 1

    def probabilities(self, iteration: int) -> np.ndarray | None:
        """(num_robots,) sampling probabilities for the next iteration (None in 'fixed' mode)."""
        if self.mode == "fixed":
            return None
        if self.mode == "uniform" or iteration < self.uniform_iterations:
            return np.full(self.num_robots, 1.0 / self.num_robots)
        weights = 1000.0 / np.maximum(self.episode_length, 1.0)
        return weights / weights.sum()

    def state_dict(self) -> dict[str, Any]:
        return {"episode_length": self.episode_length.copy(), "episodes": self.episodes.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.episode_length = np.array(state["episode_length"], dtype=np.float64)
        self.episodes = np.array(state["episodes"], dtype=np.int64)
