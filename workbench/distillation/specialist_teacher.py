"""Per-robot specialists acting as one teacher (the data source of the warm start).

Each robot's actions come from the specialist trained on it (``workbench train-specialists``),
found by structural fingerprint, so a dataset of the ensemble is a dataset of one "teacher" that is
an expert on every training robot. A student needs one observation normaliser for all robots: the
ensemble's is the specialists' statistics pooled (exactly the statistics of all their data together).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from workbench.envs import layout
from workbench.errors import WorkbenchError


def pool_normalizer_states(states: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Merge running-statistics buffers of several normalisers into those of their pooled data.

    Each state maps ``X_mean`` / ``X_var`` (..., F) and ``X_count`` (...) (per limb slot, or a scalar
    for the height map) to float64 arrays; the result has the same keys and shapes.
    """
    pooled: dict[str, np.ndarray] = {}
    prefixes = sorted({key[: -len("_mean")] for key in states[0] if key.endswith("_mean")})
    for prefix in prefixes:
        means = np.stack([np.asarray(s[f"{prefix}_mean"], np.float64) for s in states])  # (S, ..., F)
        variances = np.stack([np.asarray(s[f"{prefix}_var"], np.float64) for s in states])
        counts = np.stack([np.asarray(s[f"{prefix}_count"], np.float64) for s in states])  # (S, ...)
        weights = counts.reshape(counts.shape + (1,) * (means.ndim - counts.ndim))  # broadcast over F
        total = weights.sum(0)
        safe = np.where(total > 0, total, 1.0)
        mean = (weights * means).sum(0) / safe
        var = (weights * (variances + (means - mean) ** 2)).sum(0) / safe
        pooled[f"{prefix}_mean"] = np.where(total > 0, mean, means[0])
        pooled[f"{prefix}_var"] = np.where(total > 0, var, variances[0])
        pooled[f"{prefix}_count"] = counts.sum(0)
    return pooled


class SpecialistEnsemble:
    """The specialists of a ``train-specialists`` directory behind the :class:`Teacher` interface."""

    def __init__(self, directory: str | Path) -> None:
        from workbench.distillation.storage import sha256_file
        from workbench.models import load_checkpoint
        from workbench.morphology import fingerprint
        from workbench.training.trainer import load_robot_snapshot

        self.path = Path(directory)
        robots = load_robot_snapshot(self.path)
        if robots is None:
            raise WorkbenchError("not a specialists directory (no robots/order.json)", self.path)
        self.policies: dict[str, torch.nn.Module] = {}  # fingerprint -> specialist
        digest = hashlib.sha256()
        configs = []
        for robot in robots:
            policy_path = self.path / robot.name / "policy.pt"
            if not policy_path.is_file():
                raise WorkbenchError(f"specialist of {robot.name} has no policy.pt (train it first)", policy_path.parent)
            checkpoint = load_checkpoint(policy_path)
            self.policies[fingerprint(robot)] = checkpoint.policy.eval()
            configs.append(checkpoint.config)
            digest.update(f"{robot.name}:{sha256_file(policy_path)}\n".encode())
        self.sha256 = digest.hexdigest()
        self.config = configs[0]
        tasks = {str(c.task) for c in configs}
        stds = {round(float(p.action_std), 9) for p in self.policies.values()}
        if len(tasks) != 1 or len(stds) != 1:
            raise WorkbenchError(f"specialists differ in task ({sorted(tasks)}) or action std ({sorted(stds)})",
                                 self.path)
        self._order: list[torch.nn.Module] = []

    @property
    def task(self) -> str:
        return str(self.config.task)

    @property
    def action_std(self) -> float:
        return float(next(iter(self.policies.values())).action_std)

    def normalizer_state(self) -> dict[str, list]:
        """The specialists' observation statistics pooled, as nested lists (like :class:`Teacher`)."""
        states = [{k: v.detach().cpu().double().numpy() for k, v in p.normalizer.state_dict().items()}
                  for p in self.policies.values()]
        return {key: value.tolist() for key, value in pool_normalizer_states(states).items()}

    def set_robots(self, context: np.ndarray, limb_mask: np.ndarray, fingerprints: Sequence[str] = ()) -> None:
        """Pick the specialist of each of the R robots (by fingerprint) for :meth:`action_mean`."""
        if len(fingerprints) != len(context):
            raise WorkbenchError("the specialist ensemble needs the robots' fingerprints", self.path)
        missing = [i for i, key in enumerate(fingerprints) if key not in self.policies]
        if missing:
            raise WorkbenchError(f"no specialist for {len(missing)} of the robots (the ensemble only acts on "
                                 f"the robots it was trained on: collect with --mutants-per-robot 0)", self.path)
        self._order = [self.policies[key] for key in fingerprints]

    @torch.no_grad()
    def action_mean(self, obs: dict[str, np.ndarray], robot: np.ndarray) -> np.ndarray:
        """(B, 24) action means; row b from the specialist of robot ``robot[b]`` (an index of set_robots)."""
        robot = np.asarray(robot)
        tensors = {key: torch.as_tensor(np.asarray(value, dtype=np.float32)) for key, value in obs.items()}
        out = np.zeros((robot.shape[0], layout.ACTION_DIM), dtype=np.float32)
        for index in np.unique(robot):
            rows = np.flatnonzero(robot == index)
            picked = {key: value[torch.as_tensor(rows)] for key, value in tensors.items()}
            mean = self._order[int(index)](picked).float().numpy()
            out[rows] = mean
        return out
