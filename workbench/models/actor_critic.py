"""Actor-critic wrapper used by the PPO trainer."""

from __future__ import annotations

import math

import torch
from torch import nn

from workbench.envs import layout
from workbench.models.layers import Obs


class ActorCritic(nn.Module):
    """``forward(obs) -> (mean (B, 24), value (B,))``. ``.actor`` is a policy usable alone;
    ``.critic`` a separate value network. The action standard deviation is fixed (``.action_std``)."""

    def __init__(self, actor: nn.Module, critic: nn.Module) -> None:
        super().__init__()
        self.actor = actor
        self.critic = critic

    @property
    def action_std(self) -> float:
        return self.actor.action_std

    @property
    def config(self):
        return self.actor.config

    def forward(self, obs: Obs) -> tuple[torch.Tensor, torch.Tensor]:
        return self.actor(obs), self.critic(obs)

    @torch.no_grad()
    def update_normalizer(self, obs: Obs) -> None:
        """Update the actor's and the critic's running observation statistics (kept identical)."""
        self.actor.update_normalizer(obs)
        self.critic.update_normalizer(obs)

    def log_prob(self, mean: torch.Tensor, actions: torch.Tensor, action_mask: torch.Tensor) -> torch.Tensor:
        """Gaussian log-density (B,) of ``actions`` summed over real action slots."""
        std = self.action_std
        lp = -0.5 * ((actions - mean) / std) ** 2 - math.log(std) - 0.5 * math.log(2 * math.pi)
        return (lp * (action_mask > 0).to(lp.dtype)).sum(-1)

    def entropy(self, action_mask: torch.Tensor) -> torch.Tensor:
        """Entropy (B,) of the fixed-std Gaussian over real action slots."""
        per_dim = 0.5 + 0.5 * math.log(2 * math.pi) + math.log(self.action_std)
        return (action_mask > 0).to(torch.float32).sum(-1) * per_dim


__all__ = ["ActorCritic", "layout"]
