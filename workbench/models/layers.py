"""Building blocks shared by the policies: attention with the paper's head convention, pre-LN
transformer layers, hypernetwork output heads, height-map encoder, observation helpers."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workbench.envs import layout

Obs = Mapping[str, torch.Tensor]


def to_torch_obs(obs: Mapping[str, Any], device: torch.device | str | None = None) -> dict[str, torch.Tensor]:
    """Float32 torch tensors with a batch axis from an observation dict (numpy or torch, batched or not)."""
    out: dict[str, torch.Tensor] = {}
    single = np.ndim(obs[layout.OBS_LIMB_MASK]) == 1
    for key, value in obs.items():
        if key not in (layout.OBS_PROPRIOCEPTIVE, layout.OBS_CONTEXT, layout.OBS_LIMB_MASK,
                       layout.OBS_ACTION_MASK, layout.OBS_HEIGHTMAP):
            continue
        tensor = torch.as_tensor(np.asarray(value) if not torch.is_tensor(value) else value,
                                 dtype=torch.float32, device=device)
        out[key] = tensor.unsqueeze(0) if single else tensor
    return out


def masked_mean(x: torch.Tensor, mask: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Mean of ``x`` (B, L, ...) over ``dim`` counting only rows where ``mask`` (B, L) is 1."""
    m = mask.to(x.dtype)
    while m.dim() < x.dim():
        m = m.unsqueeze(-1)
    return (x * m).sum(dim) / m.sum(dim).clamp_min(1.0)


def clean_padding(x: torch.Tensor, limb_mask: torch.Tensor) -> torch.Tensor:
    """Zero the padded limb slots (robust to NaN / inf garbage)."""
    return torch.where(limb_mask[..., None] > 0, x, torch.zeros_like(x))


def used_limb_slots(limb_mask: torch.Tensor) -> int:
    """1 + the last limb slot that is real in any sample of ``limb_mask`` (B, L) (at least 1)."""
    used = torch.nonzero(limb_mask.amax(0) > 0)
    return int(used.max()) + 1 if used.numel() else 1


def key_padding_bias(limb_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(B, 1, 1, L) additive attention bias: 0 for real limbs, -inf for padded ones."""
    bias = torch.zeros(limb_mask.shape, dtype=dtype, device=limb_mask.device)
    bias = bias.masked_fill(limb_mask <= 0, float("-inf"))
    return bias[:, None, None, :]


class MultiHeadAttention(nn.Module):
    """Multi-head attention; each head has width ``head_dim`` and the concatenated heads
    (num_heads * head_dim) are projected back to ``d_model``.

    ``fixed=True`` is ModuMorph's fixed attention: the weights come from the context embedding
    (query = key = a per-head projection of it, computed once per robot), the values from the limb
    features; only the value and output projections then run per step.
    """

    def __init__(self, d_model: int, num_heads: int, head_dim: int, fixed: bool = False,
                 context_dim: int | None = None, dropout: float = 0.0) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.fixed = fixed
        inner = num_heads * head_dim
        if fixed:
            self.value = nn.Linear(d_model, inner)
            # Context-only (hypernetwork-side) projection: query = key.
            self.context_qk = nn.Linear(context_dim or d_model, inner)
        else:
            self.qkv = nn.Linear(d_model, 3 * inner)
        self.out = nn.Linear(inner, d_model)
        self.dropout = dropout

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.num_heads, self.head_dim).transpose(1, 2)

    def attention_weights(self, context_embedding: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """Fixed attention weights (B, H, L, L) from the context embedding."""
        q = self._heads(self.context_qk(context_embedding))
        scores = q @ q.transpose(-1, -2) / math.sqrt(self.head_dim) + bias
        return torch.softmax(scores, dim=-1)

    def forward(self, x: torch.Tensor, bias: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        b, n, _ = x.shape
        drop = self.dropout if self.training else 0.0
        if self.fixed:
            assert weights is not None
            v = self._heads(self.value(x))
        else:
            # Explicit matmuls (not fused SDPA) so that torch's FLOP counter sees every product.
            q, k, v = (self._heads(t) for t in self.qkv(x).chunk(3, dim=-1))
            weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + bias, dim=-1)
        if drop:
            weights = F.dropout(weights, drop)
        y = weights @ v
        y = y.transpose(1, 2).reshape(b, n, self.num_heads * self.head_dim)
        return self.out(y)


class TransformerLayer(nn.Module):
    """Pre-LayerNorm transformer encoder layer (ReLU feed-forward)."""

    def __init__(self, d_model: int, num_heads: int, head_dim: int, feedforward_dim: int,
                 dropout: float = 0.0, fixed: bool = False, context_dim: int | None = None) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, num_heads, head_dim, fixed=fixed, context_dim=context_dim,
                                       dropout=dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff1 = nn.Linear(d_model, feedforward_dim)
        self.ff2 = nn.Linear(feedforward_dim, d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x), bias, weights))
        x = x + self.drop(self.ff2(self.drop(F.relu(self.ff1(self.norm2(x))))))
        return x


class HyperLinearHead(nn.Module):
    """Hypernetwork output heads generating a linear layer ``y = x @ W + b`` from an embedding.

    ``W`` has shape (..., in_dim, out_dim). The heads start with zero (or tiny) weights and small
    random biases, so the generated layer starts as an ordinary randomly initialised layer.
    """

    def __init__(self, embed_dim: int, in_dim: int, out_dim: int, weight_init_std: float = 0.0,
                 fan_in: int | None = None) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.weight_head = nn.Linear(embed_dim, in_dim * out_dim)
        self.bias_head = nn.Linear(embed_dim, out_dim)
        bound = 1.0 / math.sqrt(fan_in or in_dim)
        with torch.no_grad():
            for head in (self.weight_head, self.bias_head):
                if weight_init_std > 0:
                    head.weight.normal_(0.0, weight_init_std)
                else:
                    head.weight.zero_()
                head.bias.uniform_(-bound, bound)

    def forward(self, e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        w = self.weight_head(e).view(*e.shape[:-1], self.in_dim, self.out_dim)
        return w, self.bias_head(e)


def mlp(dims: list[int] | tuple[int, ...], final_activation: bool = True) -> nn.Sequential:
    """Linear layers through ``dims`` with ReLU between (and after the last if ``final_activation``)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(a, b))
        if final_activation or i < len(dims) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def heightmap_encoder(dims: tuple[int, ...]) -> nn.Sequential:
    """The plain height-map encoder 1410 -> dims... (ReLU after every layer)."""
    return mlp([layout.HEIGHTMAP_SIZE, *dims], final_activation=True)


def module_parameter_count(module: nn.Module, norms: bool = True) -> int:
    """Parameters of ``module``; ``norms=False`` leaves LayerNorm parameters out."""
    total = 0
    for sub in module.modules():
        if not norms and isinstance(sub, nn.LayerNorm):
            continue
        total += sum(p.numel() for p in sub.parameters(recurse=False))
    return total


def grouped_linear(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, inverse: torch.Tensor
) -> torch.Tensor:
    """Per-robot, per-limb linear layers applied to samples grouped by robot.

    Args:
        x: (B, L, I) inputs; weight: (R, L, I, O) and bias: (R, L, O) one layer per robot and limb;
        inverse: (B,) robot row of each sample.

    Returns:
        (B, L, O) with out[b, l] = x[b, l] @ weight[inverse[b], l] + bias[inverse[b], l].
    """
    batch = x.shape[0]
    robots = weight.shape[0]
    device = x.device
    order = torch.argsort(inverse, stable=True)
    sorted_robot = inverse[order]
    counts = torch.bincount(inverse, minlength=robots)
    offsets = torch.cumsum(counts, 0) - counts
    slot = torch.arange(batch, device=device) - offsets[sorted_robot]  # position within its robot
    # Robots are sampled unevenly, so a robot's samples are cut into chunks of the mean group
    # size: padding stays below 2x the batch instead of (largest group x robots).
    chunk = max(1, -(-batch // max(1, int((counts > 0).sum()))))
    chunks_per_robot = -(-counts // chunk)
    first_chunk = torch.cumsum(chunks_per_robot, 0) - chunks_per_robot
    group = first_chunk[sorted_robot] + torch.div(slot, chunk, rounding_mode="floor")
    position = slot - torch.div(slot, chunk, rounding_mode="floor") * chunk
    group_robot = torch.repeat_interleave(torch.arange(robots, device=device), chunks_per_robot)
    padded = x.new_zeros((int(group_robot.shape[0]), chunk) + tuple(x.shape[1:]))
    padded = padded.index_put((group, position), x[order])
    y = torch.einsum("gnli,glio->gnlo", padded, weight.index_select(0, group_robot))
    out_sorted = y[group, position]
    out = torch.zeros_like(out_sorted).index_copy(0, order, out_sorted)
    return out + bias[inverse]
