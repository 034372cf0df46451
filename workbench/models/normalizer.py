"""Running mean / standard-deviation observation normaliser (frozen unless told to update).

Each of the 12 limb slots of the padded (12, 52) proprioceptive observation has its own statistics,
accumulated over real limbs only (``limb_mask``); the height map has its own per-value statistics.
Normalised values are ``clip((x - mean) / sqrt(var + eps), -clip, clip)`` and padded slots come out as
exact zeros. The statistics are buffers, so they travel with ``state_dict()`` into checkpoints.
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.envs import layout

EPS = 1e-8
CLIP = 10.0


def _masked_moments(x: torch.Tensor, weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Count, mean and M2 over axis 0 of ``x`` (N, ...) with row weights ``weight`` (N, ...) in {0, 1}."""
    count = weight.sum(0)
    safe = count.clamp_min(1.0)
    mean = (x * weight).sum(0) / safe
    m2 = (((x - mean) ** 2) * weight).sum(0)
    return count, mean, m2


class ObservationNormalizer(nn.Module):
    """Normalises the proprioceptive observation per limb slot and the height map per value."""

    def __init__(self, heightmap: bool, eps: float = EPS, clip: float = CLIP) -> None:
        super().__init__()
        self.eps = eps
        self.clip = clip
        self.heightmap = heightmap
        shape = (layout.MAX_LIMBS, layout.PROPRIOCEPTIVE.size)
        self.register_buffer("proprio_mean", torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("proprio_var", torch.ones(shape, dtype=torch.float64))
        self.register_buffer("proprio_count", torch.zeros(layout.MAX_LIMBS, dtype=torch.float64))
        if heightmap:
            self.register_buffer("heightmap_mean", torch.zeros(layout.HEIGHTMAP_SIZE, dtype=torch.float64))
            self.register_buffer("heightmap_var", torch.ones(layout.HEIGHTMAP_SIZE, dtype=torch.float64))
            self.register_buffer("heightmap_count", torch.zeros((), dtype=torch.float64))

    @staticmethod
    def _merge(mean, var, count, b_count, b_mean, b_m2):
        total = count + b_count
        safe = torch.where(total > 0, total, torch.ones_like(total))
        delta = b_mean - mean
        new_mean = mean + delta * (b_count / safe)
        m2 = var * count + b_m2 + delta**2 * count * b_count / safe
        new_var = torch.where(total > 0, m2 / safe, var)
        new_mean = torch.where(total > 0, new_mean, mean)
        return new_mean, new_var, total

    @torch.no_grad()
    def update(self, obs: dict[str, torch.Tensor]) -> None:
        """Fold a batch of raw observations into the running statistics."""
        proprio = obs[layout.OBS_PROPRIOCEPTIVE].to(torch.float64).reshape(-1, *self.proprio_mean.shape)
        mask = obs[layout.OBS_LIMB_MASK].to(torch.float64).reshape(-1, layout.MAX_LIMBS)
        proprio = torch.where(mask[..., None] > 0, proprio, torch.zeros_like(proprio))
        b_count, b_mean, b_m2 = _masked_moments(proprio, mask[..., None].expand_as(proprio))
        b_count = b_count[:, 0]
        count = self.proprio_count[:, None]
        mean, var, total = self._merge(self.proprio_mean, self.proprio_var, count, b_count[:, None], b_mean, b_m2)
        self.proprio_mean.copy_(mean)
        self.proprio_var.copy_(var)
        self.proprio_count.copy_(total[:, 0])
        if self.heightmap and layout.OBS_HEIGHTMAP in obs:
            hm = obs[layout.OBS_HEIGHTMAP].to(torch.float64).reshape(-1, layout.HEIGHTMAP_SIZE)
            n = torch.tensor(float(hm.shape[0]), dtype=torch.float64, device=hm.device)
            b_mean = hm.mean(0)
            b_m2 = ((hm - b_mean) ** 2).sum(0)
            mean, var, total = self._merge(self.heightmap_mean, self.heightmap_var, self.heightmap_count, n,
                                           b_mean, b_m2)
            self.heightmap_mean.copy_(mean)
            self.heightmap_var.copy_(var)
            self.heightmap_count.copy_(total)

    def normalize_proprioceptive(self, proprio: torch.Tensor, limb_mask: torch.Tensor) -> torch.Tensor:
        mean = self.proprio_mean.to(proprio.dtype)
        std = torch.sqrt(self.proprio_var + self.eps).to(proprio.dtype)
        z = torch.clamp((proprio - mean) / std, -self.clip, self.clip)
        return torch.where(limb_mask[..., None] > 0, z, torch.zeros_like(z))

    def normalize_heightmap(self, heightmap: torch.Tensor) -> torch.Tensor:
        mean = self.heightmap_mean.to(heightmap.dtype)
        std = torch.sqrt(self.heightmap_var + self.eps).to(heightmap.dtype)
        return torch.clamp((heightmap - mean) / std, -self.clip, self.clip)

    def statistics(self) -> dict[str, torch.Tensor]:
        """Mean and standard deviation (sqrt(var + eps)) as float32 tensors."""
        out = {
            "proprio_mean": self.proprio_mean.float(),
            "proprio_std": torch.sqrt(self.proprio_var + self.eps).float(),
        }
        if self.heightmap:
            out["heightmap_mean"] = self.heightmap_mean.float()
            out["heightmap_std"] = torch.sqrt(self.heightmap_var + self.eps).float()
        return out
