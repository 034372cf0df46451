"""Two SAC actors behind one interface: a plain 256x256 MLP and the graph hyper policy.

Both map observations ``(B, obs_dim)`` to a tanh-squashed Gaussian action (CleanRL's SAC actor). The GHP
keeps a set of sampled architectures, splits each batch among them (contiguous chunks) and is resampled
every ``resample_every`` updates and at episode starts.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workbench.small_policies.graph import build_graph
from workbench.small_policies.hypernetwork import GraphHyperNetwork
from workbench.small_policies.space import WIDTHS, Architecture

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0


def mlp_forward(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """ReLU MLP from ``[W0, b0, W1, b1, ...]`` (W: (out, in)); x (B, in) -> (B, out)."""
    for i in range(0, len(params), 2):
        x = F.linear(x, params[i], params[i + 1])
        if i + 2 < len(params):
            x = torch.relu(x)
    return x


def squash(head: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor, deterministic: bool = False
           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """head (B, 2A) -> action (B, A), log-prob (B, 1), mean action (B, A)."""
    mean, log_std = head.chunk(2, dim=-1)
    log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (torch.tanh(log_std) + 1)
    std = log_std.exp()
    x = mean if deterministic else mean + std * torch.randn_like(mean)
    y = torch.tanh(x)
    logp = (-0.5 * ((x - mean) / std) ** 2 - log_std - 0.5 * np.log(2 * np.pi)).sum(-1, keepdim=True)
    logp = logp - torch.log(scale * (1 - y.pow(2)) + 1e-6).sum(-1, keepdim=True)
    return y * scale + bias, logp, torch.tanh(mean) * scale + bias


class Actor(nn.Module):
    """``kind="mlp"``: fixed 256x256 actor; ``kind="ghp"``: graph hyper policy over the space."""

    def __init__(self, kind: str, obs_dim: int, act_dim: int, action_low: np.ndarray, action_high: np.ndarray,
                 num_archs: int = 8, resample_every: int = 50) -> None:
        super().__init__()
        self.kind, self.obs_dim, self.act_dim = kind, obs_dim, act_dim
        self.num_archs, self.resample_every = num_archs, resample_every
        self.register_buffer("scale", torch.tensor((action_high - action_low) / 2, dtype=torch.float32))
        self.register_buffer("bias", torch.tensor((action_high + action_low) / 2, dtype=torch.float32))
        if kind == "mlp":
            self.net = nn.Sequential(nn.Linear(obs_dim, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                                     nn.Linear(256, 2 * act_dim))
        else:
            self.hypernet = GraphHyperNetwork()
        self.archs: list[Architecture] = [(256, 256)]

    def resample(self, rng: np.random.Generator) -> None:
        """Draw ``num_archs`` architectures: depth uniform in 1..4, each width uniform in the space."""
        if self.kind == "ghp":
            self.archs = [tuple(int(w) for w in rng.choice(WIDTHS, size=int(rng.integers(1, 5))))
                          for _ in range(self.num_archs)]

    def generate(self, archs: list[Architecture]) -> list[list[torch.Tensor]]:
        """The generated ``[W0, b0, ...]`` of each architecture (one batched hypernetwork pass)."""
        return self.hypernet([build_graph(a, self.obs_dim, self.act_dim) for a in archs])

    def head(self, obs: torch.Tensor, arch: Architecture | None = None) -> torch.Tensor:
        """(B, obs_dim) -> (B, 2A); the GHP splits the batch among ``self.archs`` unless ``arch`` is given."""
        if self.kind == "mlp":
            return self.net(obs)
        if arch is not None:
            return mlp_forward(self.generate([arch])[0], obs)
        archs = self.archs[: len(obs)]
        chunks = obs.tensor_split(len(archs))                      # contiguous sub-batches, one per arch
        return torch.cat([mlp_forward(p, c) for p, c in zip(self.generate(archs), chunks)])

    def forward(self, obs: torch.Tensor, arch: Architecture | None = None, deterministic: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return squash(self.head(obs, arch), self.scale, self.bias, deterministic)

    def mlp_params(self, arch: Architecture | None = None) -> list[torch.Tensor]:
        """The plain MLP's ``[W0, b0, ...]`` (the generated ones for the GHP)."""
        if self.kind == "mlp":
            return [p for m in self.net if isinstance(m, nn.Linear) for p in (m.weight, m.bias)]
        return self.generate([arch])[0]
