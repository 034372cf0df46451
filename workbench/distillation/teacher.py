"""The teacher as a data source: its action means, its fixed std and its normalisation statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from workbench.envs import layout
from workbench.errors import WorkbenchError


class Teacher:
    """A trained policy (any checkpoint ``load_checkpoint`` reads) acting on raw batched observations.

    Morphology-only work (ModuMorph's hypernetworks and fixed attention) is done once per robot set
    with :meth:`set_robots` when the policy supports ``context_cache``.
    """

    def __init__(self, path: str | Path) -> None:
        from workbench.distillation.storage import sha256_file
        from workbench.models import load_checkpoint

        checkpoint = load_checkpoint(path)
        self.path = Path(path)
        self.policy = checkpoint.policy.eval()
        self.config = checkpoint.config
        self.sha256 = sha256_file(path)
        if not hasattr(self.policy, "normalizer"):
            raise WorkbenchError("teacher checkpoint holds no acting policy with an observation normaliser", path)
        self._table: Any = None
        self._grouped: bool | None = None  # the trainer's grouped ModuMorph forward checked to agree

    @property
    def task(self) -> str:
        return str(self.config.task)

    @property
    def action_std(self) -> float:
        return float(self.policy.action_std)

    def normalizer_state(self) -> dict[str, list]:
        """The observation normaliser's buffers (float64 mean, var and counts) as nested lists."""
        return {key: value.detach().cpu().double().tolist() for key, value in self.policy.normalizer.state_dict().items()}

    @torch.no_grad()
    def set_robots(self, context: np.ndarray, limb_mask: np.ndarray, fingerprints: Sequence[str] = ()) -> None:
        """Precompute the per-robot part of the policy for robots (R, 12, 53) / (R, 12) (if it has one).

        ``fingerprints`` (the robots' structural fingerprints) are not needed by a universal policy."""
        if hasattr(self.policy, "context_cache") and getattr(self.policy, "modumorph", False):
            self._table = self.policy.context_cache({
                layout.OBS_CONTEXT: torch.as_tensor(context, dtype=torch.float32),
                layout.OBS_LIMB_MASK: torch.as_tensor(limb_mask, dtype=torch.float32),
            })
        else:
            self._table = None

    @torch.no_grad()
    def action_mean(self, obs: dict[str, np.ndarray], robot: np.ndarray) -> np.ndarray:
        """(B, 24) action means for a batched raw observation; ``robot`` (B,) indexes :meth:`set_robots`."""
        from workbench.training.context_sharing import gather_cache, verify_grouped_forward

        tensors = {key: torch.as_tensor(np.asarray(value, dtype=np.float32)) for key, value in obs.items()}
        if self._table is None:
            return self.policy(tensors).float().numpy()
        index = torch.as_tensor(robot, dtype=torch.long)
        if self._grouped is None:
            self._grouped = verify_grouped_forward(self.policy, tensors)
        if self._grouped:  # about twice as fast as gathering per-sample caches
            mean = self.policy(tensors, cache=self._table, robot_index=index, trim_padding=True)
        else:
            mean = self.policy(tensors, cache=gather_cache(self._table, index), trim_padding=True)
        return mean.float().numpy()


def load_teacher(path: str | Path) -> Any:
    """A teacher from a policy checkpoint, or from a ``workbench train-specialists`` directory (the
    per-robot specialists acting as one teacher)."""
    path = Path(path)
    if path.is_dir():
        from workbench.distillation.specialist_teacher import SpecialistEnsemble

        return SpecialistEnsemble(path)
    return Teacher(path)
