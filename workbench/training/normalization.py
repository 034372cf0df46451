"""Reward scaling by the running standard deviation of the discounted return.

Observation normalisation lives in the model (``update_normalizer``); this is the
trainer-side half of VecNormalize: each env keeps its discounted return
``G <- gamma * G + r`` (reset at episode end); the running variance of G over all
envs and steps scales the rewards the learner sees (``r / sqrt(var + eps)``,
clipped). Statistics in float64 numpy, so runs are bit-reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class RunningMeanStd:
    """Running mean and variance of a stream of batches (Chan et al. parallel update)."""

    def __init__(self, shape: tuple[int, ...] = (), epsilon: float = 1e-4) -> None:
        self.mean = np.zeros(shape, dtype=np.float64)
        self.var = np.ones(shape, dtype=np.float64)
        self.count = float(epsilon)

    def update(self, batch: np.ndarray) -> None:
        batch = np.asarray(batch, dtype=np.float64)
        if batch.shape[0] == 0:
            return
        batch_mean = batch.mean(axis=0)
        batch_var = batch.var(axis=0)
        batch_count = batch.shape[0]
        delta = batch_mean - self.mean
        total = self.count + batch_count
        new_mean = self.mean + delta * batch_count / total
        m2 = self.var * self.count + batch_var * batch_count + delta**2 * self.count * batch_count / total
        self.mean, self.var, self.count = new_mean, m2 / total, float(total)

    def state_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.copy(), "var": self.var.copy(), "count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        # Reshaped to this instance's shape: checkpoints written before the 0-d fix of
        # training/checkpoint.py hold a scalar statistic as shape (1,).
        shape = np.shape(self.mean)
        self.mean = np.array(state["mean"], dtype=np.float64).reshape(shape)
        self.var = np.array(state["var"], dtype=np.float64).reshape(shape)
        self.count = float(state["count"])


class ReturnScaler:
    """Scales each env's rewards by the running std of its discounted return."""

    def __init__(self, num_envs: int, gamma: float, clip: float = 10.0, epsilon: float = 1e-8) -> None:
        self.gamma = float(gamma)
        self.clip = float(clip)
        self.epsilon = float(epsilon)
        self.returns = np.zeros(num_envs, dtype=np.float64)
        self.rms = RunningMeanStd(())

    def __call__(self, rewards: np.ndarray, dones: np.ndarray) -> np.ndarray:
        """(N,) raw rewards of one step and (N,) episode-ended flags -> (N,) scaled rewards."""
        rewards = np.asarray(rewards, dtype=np.float64)
        self.returns = self.returns * self.gamma + rewards
        self.rms.update(self.returns)
        scaled = np.clip(rewards / np.sqrt(self.rms.var + self.epsilon), -self.clip, self.clip)
        self.returns[np.asarray(dones, dtype=bool)] = 0.0
        return scaled.astype(np.float32)

    @property
    def std(self) -> float:
        return float(np.sqrt(self.rms.var + self.epsilon))

    def state_dict(self) -> dict[str, Any]:
        return {"returns": self.returns.copy(), "rms": self.rms.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.returns = np.array(state["returns"], dtype=np.float64)
        self.rms.load_state_dict(state["rms"])
