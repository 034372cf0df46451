"""SAC (CleanRL-style): one typed config, twin Q critics of 256 units, pure losses, one update function."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class SACConfig:
    """Every SAC hyperparameter (CleanRL's sac_continuous_action defaults)."""

    gamma: float = 0.99            # discount
    tau: float = 0.005             # target-network Polyak rate
    batch_size: int = 256          # transitions per update (GHP: split among the sampled architectures)
    buffer_size: int = 1_000_000   # replay capacity (transitions)
    learning_starts: int = 5_000   # random actions before the first update
    policy_lr: float = 3e-4        # actor (or hypernetwork) Adam rate
    q_lr: float = 1e-3             # critic Adam rate
    policy_frequency: int = 2      # actor updates every this many critic updates (delayed, TD3-style)
    autotune: bool = True          # learn the temperature alpha toward target entropy -act_dim
    alpha: float = 0.2             # the fixed temperature (and the initial one when autotune)
    num_archs: int = 8             # GHP: architectures sampled per update set
    resample_every: int = 50       # GHP: updates between architecture resamples


class QNetwork(nn.Module):
    """Q(s, a): (B, obs+act) -> (B, 1), two hidden layers of 256."""

    def __init__(self, obs_dim: int, act_dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim + act_dim, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                                 nn.Linear(256, 1))

    def forward(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([obs, act], -1))


def td_target(rewards: torch.Tensor, dones: torch.Tensor, q1_next: torch.Tensor, q2_next: torch.Tensor,
              next_logp: torch.Tensor, alpha: float, gamma: float) -> torch.Tensor:
    """All (B, 1): r + gamma (1 - d) (min(Q1', Q2') - alpha log pi(a'|s'))."""
    return rewards + gamma * (1 - dones) * (torch.min(q1_next, q2_next) - alpha * next_logp)


def critic_loss(q1: torch.Tensor, q2: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, 1) each -> scalar: MSE(Q1, y) + MSE(Q2, y)."""
    return F.mse_loss(q1, target) + F.mse_loss(q2, target)


def actor_loss(q1_pi: torch.Tensor, q2_pi: torch.Tensor, logp: torch.Tensor, alpha: float) -> torch.Tensor:
    """(B, 1) each -> scalar: mean(alpha log pi - min(Q1, Q2))."""
    return (alpha * logp - torch.min(q1_pi, q2_pi)).mean()


def alpha_loss(log_alpha: torch.Tensor, logp: torch.Tensor, target_entropy: float) -> torch.Tensor:
    """log_alpha scalar, logp (B, 1) -> scalar: mean(-alpha (log pi + target entropy))."""
    return (-log_alpha.exp() * (logp.detach() + target_entropy)).mean()


def update(step: int, batch: dict[str, torch.Tensor], actor: nn.Module, qf1: QNetwork, qf2: QNetwork,
           qf1_t: QNetwork, qf2_t: QNetwork, log_alpha: torch.Tensor, opts: dict[str, torch.optim.Optimizer],
           cfg: SACConfig, target_entropy: float) -> dict[str, float]:
    """One SAC update (critic every call, actor/alpha every ``policy_frequency``); returns losses."""
    alpha = log_alpha.exp().item() if cfg.autotune else cfg.alpha
    obs, act, nxt = batch["obs"], batch["actions"], batch["next_obs"]
    with torch.no_grad():
        next_a, next_logp, _ = actor(nxt)
        y = td_target(batch["rewards"], batch["dones"], qf1_t(nxt, next_a), qf2_t(nxt, next_a), next_logp,
                      alpha, cfg.gamma)
    q_loss = critic_loss(qf1(obs, act), qf2(obs, act), y)
    opts["q"].zero_grad()
    q_loss.backward()
    opts["q"].step()
    out = {"q_loss": q_loss.item(), "alpha": alpha}
    if step % cfg.policy_frequency == 0:
        for _ in range(cfg.policy_frequency):
            a, logp, _ = actor(obs)
            pi_loss = actor_loss(qf1(obs, a), qf2(obs, a), logp, alpha)
            opts["actor"].zero_grad()
            pi_loss.backward()
            opts["actor"].step()
            if cfg.autotune:
                a_loss = alpha_loss(log_alpha, logp, target_entropy)
                opts["alpha"].zero_grad()
                a_loss.backward()
                opts["alpha"].step()
                alpha = log_alpha.exp().item()
        out["actor_loss"] = pi_loss.item()
    with torch.no_grad():
        for net, tgt in ((qf1, qf1_t), (qf2, qf2_t)):
            for p, pt in zip(net.parameters(), tgt.parameters()):
                pt.mul_(1 - cfg.tau).add_(cfg.tau * p)
    return out
