"""Multi-robot MLP on the padded observation, and the cheap value network (critic)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from workbench.envs import layout
from workbench.models.base import PolicyBase
from workbench.models.config import CriticConfig, MLPConfig, TransformerConfig
from workbench.models.layers import Obs, heightmap_encoder, masked_mean, mlp, module_parameter_count


class MultiRobotMLP(PolicyBase):
    """``h0 = relu(W x / n_real + b)`` on the flattened padded (12, 52) observation (zeros in padded
    slots; optionally with the 53 context values concatenated per limb), the height-map encoder output
    joined after h0 on VT / Obstacle, ReLU hidden layers, a linear layer to the 24 action slots."""

    def __init__(self, config: MLPConfig) -> None:
        super().__init__(config, heightmap=config.uses_heightmap)
        per_limb = layout.PROPRIOCEPTIVE.size + (layout.CONTEXT.size if config.use_context else 0)
        hdim = config.hidden_dim
        hm_dim = config.heightmap_dims[-1] if config.uses_heightmap else 0
        self.input = nn.Linear(layout.MAX_LIMBS * per_limb, hdim)
        dims = [hdim + hm_dim] + [hdim] * (config.num_hidden_layers - 1)
        self.hidden = nn.ModuleList(nn.Linear(a, hdim) for a in dims[:-1])
        self.output = nn.Linear(dims[-1], layout.ACTION_DIM)
        self.heightmap_encoder = heightmap_encoder(config.heightmap_dims) if config.uses_heightmap else None

    def forward(self, obs: Obs) -> torch.Tensor:
        x = self.prepare(obs)
        feats = x["proprio"]
        if self.config.use_context:
            feats = torch.cat([feats, x["context"]], dim=-1)
        n_real = (x["limb_mask"] > 0).to(feats.dtype).sum(-1, keepdim=True).clamp_min(1.0)
        h = F.linear(feats.flatten(1), self.input.weight) / n_real + self.input.bias
        h = F.relu(h)
        if self.heightmap_encoder is not None:
            h = torch.cat([h, self.heightmap_encoder(x["heightmap"])], dim=-1)
        for layer in self.hidden:
            h = F.relu(layer(h))
        out = self.output(h)
        return torch.where(x["action_mask"] > 0, out, torch.zeros_like(out))

    def inference_parameters(self, norms: bool = True) -> dict[str, int]:
        parts = {"input": module_parameter_count(self.input),
                 "hidden": sum(module_parameter_count(m) for m in self.hidden),
                 "output": module_parameter_count(self.output)}
        if self.heightmap_encoder is not None:
            parts["heightmap_encoder"] = module_parameter_count(self.heightmap_encoder)
        return parts

    def inference_parameter_count(self, norms: bool = True) -> int:
        return sum(self.inference_parameters(norms).values())


class ValueNetwork(PolicyBase):
    """Critic: ``deepsets`` (per-limb MLP over [proprio, context] -> masked mean over real limbs ->
    [+ height map features] -> MLP -> value) or ``transformer`` (a small MetaMorph-style transformer
    with a per-limb value head, averaged over real limbs). Returns (B,)."""

    def __init__(self, config: CriticConfig) -> None:
        super().__init__(config, heightmap=config.uses_heightmap)
        hdim = config.hidden_dim
        per_limb = layout.PROPRIOCEPTIVE.size + (layout.CONTEXT.size if config.use_context else 0)
        hm_dim = config.heightmap_dims[-1] if config.uses_heightmap else 0
        if config.arch == "deepsets":
            self.phi = mlp([per_limb] + [hdim] * config.num_layers)
            self.rho = mlp([hdim + hm_dim] + [hdim] * (config.num_layers - 1) + [1], final_activation=False)
            self.heightmap_encoder = heightmap_encoder(config.heightmap_dims) if config.uses_heightmap else None
            self.trunk = None
        elif config.arch == "transformer":
            from workbench.models.transformer import TransformerPolicy

            self.trunk = TransformerPolicy(TransformerConfig(
                task=config.task, variant="metamorph", d_model=hdim, num_layers=config.num_layers,
                num_heads=config.num_heads, head_dim=max(1, hdim // config.num_heads),
                feedforward_dim=config.feedforward_dim, heightmap_dims=config.heightmap_dims,
                outputs_per_limb=1))
            # The trunk normalises with the critic's own statistics.
            self.trunk.normalizer = self.normalizer
        else:
            raise ValueError(f"unknown critic arch {config.arch!r}")

    def forward(self, obs: Obs) -> torch.Tensor:
        if self.trunk is not None:
            values = self.trunk.per_limb_outputs(obs)[..., 0]
            return masked_mean(values, obs[layout.OBS_LIMB_MASK])
        x = self.prepare(obs)
        feats = x["proprio"]
        if self.config.use_context:
            feats = torch.cat([feats, x["context"]], dim=-1)
        pooled = masked_mean(self.phi(feats), x["limb_mask"])
        if self.heightmap_encoder is not None:
            pooled = torch.cat([pooled, self.heightmap_encoder(x["heightmap"])], dim=-1)
        return self.rho(pooled)[..., 0]
