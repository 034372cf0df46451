"""Common base of every policy: raw observations in, normalised internally, Gaussian mean out."""

from __future__ import annotations

import torch
from torch import nn

from workbench.envs import layout
from workbench.models.layers import Obs, clean_padding
from workbench.models.normalizer import ObservationNormalizer


class PolicyBase(nn.Module):
    """A policy mapping a batched raw observation dict to the action mean (B, 24).

    Subclasses implement :meth:`per_limb_outputs` -> (B, 12, outputs_per_limb) or override
    :meth:`forward`. The action standard deviation is fixed (``config.action_std``).
    """

    config: object

    def __init__(self, config, heightmap: bool) -> None:
        super().__init__()
        self.config = config
        self.normalizer = ObservationNormalizer(heightmap=heightmap)

    @property
    def action_std(self) -> float:
        return float(getattr(self.config, "action_std", 0.9))

    @torch.no_grad()
    def update_normalizer(self, obs: Obs) -> None:
        """Fold raw observations into the running statistics (only the trainer calls this)."""
        self.normalizer.update(obs)

    def prepare(self, obs: Obs) -> dict[str, torch.Tensor]:
        """Normalised proprioception (padded slots zero), cleaned context, masks, normalised height map."""
        limb_mask = obs[layout.OBS_LIMB_MASK]
        out = {
            "limb_mask": limb_mask,
            "action_mask": obs[layout.OBS_ACTION_MASK],
            "proprio": self.normalizer.normalize_proprioceptive(
                clean_padding(obs[layout.OBS_PROPRIOCEPTIVE], limb_mask), limb_mask),
            "context": clean_padding(obs[layout.OBS_CONTEXT], limb_mask),
        }
        if self.normalizer.heightmap:
            out["heightmap"] = self.normalizer.normalize_heightmap(obs[layout.OBS_HEIGHTMAP])
        return out

    @staticmethod
    def mask_actions(per_limb: torch.Tensor, action_mask: torch.Tensor) -> torch.Tensor:
        """(B, 12, 2) -> (B, 24), zero where the action slot has no motor."""
        actions = per_limb.reshape(per_limb.shape[0], layout.ACTION_DIM)
        return torch.where(action_mask > 0, actions, torch.zeros_like(actions))

    def inference_parameter_count(self, norms: bool = True) -> int:  # pragma: no cover - overridden
        raise NotImplementedError
