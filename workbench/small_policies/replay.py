"""A fixed-size replay buffer of numpy arrays (float32; ``compact=True`` stores float16 to carry a run)."""

from __future__ import annotations

import numpy as np


class ReplayBuffer:
    def __init__(self, capacity: int, obs_dim: int, act_dim: int, compact: bool = False) -> None:
        dtype = np.float16 if compact else np.float32
        self.capacity, self.size, self.pos = capacity, 0, 0
        self.obs = np.zeros((capacity, obs_dim), dtype)
        self.next_obs = np.zeros((capacity, obs_dim), dtype)
        self.actions = np.zeros((capacity, act_dim), dtype)
        self.rewards = np.zeros((capacity, 1), np.float32)
        self.dones = np.zeros((capacity, 1), np.float32)  # terminated (not truncated): no bootstrap

    def add(self, obs: np.ndarray, action: np.ndarray, reward: float, next_obs: np.ndarray, terminated: bool) -> None:
        i = self.pos
        self.obs[i], self.actions[i], self.rewards[i], self.next_obs[i], self.dones[i] = (
            obs, action, reward, next_obs, float(terminated))
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        idx = rng.integers(0, self.size, size=batch)
        return {k: getattr(self, k)[idx].astype(np.float32) for k in ("obs", "actions", "rewards", "next_obs", "dones")}

    def state_dict(self) -> dict:
        n = self.size
        return {"capacity": self.capacity, "size": n, "pos": self.pos,
                **{k: getattr(self, k)[:n].copy() for k in ("obs", "actions", "rewards", "next_obs", "dones")}}

    def load_state_dict(self, state: dict) -> None:
        n = state["size"]
        self.size, self.pos = n, state["pos"]
        for k in ("obs", "actions", "rewards", "next_obs", "dones"):
            getattr(self, k)[:n] = state[k]
