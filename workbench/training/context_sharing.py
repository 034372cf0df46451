"""Compute each robot's morphology-only work once per batch instead of once per sample.

ModuMorph's hypernetworks (per-limb embedding and decoder weights) and its fixed
attention weights depend on the robot's context only. In a PPO batch thousands of
samples share a few dozen robots, so computing ``actor.context_cache`` for the unique
robots and gathering it per sample is exactly the same function (same values,
gradients flow through the gather) at a fraction of the cost: per sample the
hypernetwork heads would otherwise cost ~12 x hn_hidden x 52 x d_model multiply-adds.

Robots are recognised by their observation content (context features and limb mask),
never by an index the environment might renumber; a random projection finds
candidate groups and an exact comparison confirms them (otherwise: no sharing).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch

CONTEXT = "context"
LIMB_MASK = "limb_mask"


def supports_context_sharing(model: torch.nn.Module) -> bool:
    """True for an actor-critic whose actor accepts ``forward(obs, cache=...)`` and has ``context_cache``."""
    actor = getattr(model, "actor", None)
    return actor is not None and hasattr(actor, "context_cache") and hasattr(model, "critic")


def _robot_rows(obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
    batch = obs[LIMB_MASK].shape[0]
    return torch.cat([obs[CONTEXT].reshape(batch, -1), obs[LIMB_MASK].reshape(batch, -1)], dim=1)


def unique_robots(obs: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(representative sample per unique robot (R,), inverse index (B,)) or None if the rows disagree."""
    rows = _robot_rows(obs)
    projection = torch.linspace(0.5, 1.5, rows.shape[1], dtype=torch.float64, device=rows.device)
    projection = projection * torch.cos(torch.arange(rows.shape[1], dtype=torch.float64, device=rows.device) * 1.7)
    keys = rows.to(torch.float64) @ projection
    _, inverse = torch.unique(keys, return_inverse=True)
    count = int(inverse.max()) + 1 if inverse.numel() else 0
    positions = torch.arange(rows.shape[0], device=rows.device)
    first = torch.full((count,), rows.shape[0], dtype=torch.long, device=rows.device)
    first = first.scatter_reduce(0, inverse, positions, reduce="amin")
    if not torch.equal(rows[first][inverse], rows):  # a projection collision: do not share
        return None
    return first, inverse


def gather_cache(cache: Any, index: torch.Tensor) -> Any:
    """Index every tensor of a (nested dict / list / tuple) cache along its batch axis."""
    if isinstance(cache, torch.Tensor):
        return cache.index_select(0, index)
    if isinstance(cache, dict):
        return {key: gather_cache(value, index) for key, value in cache.items()}
    if isinstance(cache, (list, tuple)):
        return type(cache)(gather_cache(value, index) for value in cache)
    return cache


def shared_context_forward(model: torch.nn.Module, obs: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """``model(obs)`` for an actor-critic, with the actor's context cache computed per unique robot."""
    groups = unique_robots(obs)
    if groups is None:
        return model(obs)
    first, inverse = groups
    representatives = {CONTEXT: obs[CONTEXT][first], LIMB_MASK: obs[LIMB_MASK][first]}
    cache = gather_cache(model.actor.context_cache(representatives), inverse)
    return model.actor(obs, cache=cache), model.critic(obs)


class RolloutContextCache:
    """Per-robot actor caches for acting during one rollout (the weights do not change inside it).

    Keyed by the bytes of a robot's context and limb mask; call :meth:`clear` when the
    weights change (at the start of every rollout).
    """

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self._index: dict[bytes, int] = {}
        self._table: Any = None

    def clear(self) -> None:
        self._index.clear()
        self._table = None

    def rows_for(self, obs: Mapping[str, np.ndarray], device: torch.device) -> torch.Tensor:
        context = np.asarray(obs[CONTEXT], dtype=np.float32)
        mask = np.asarray(obs[LIMB_MASK], dtype=np.float32)
        rows = np.empty(context.shape[0], dtype=np.int64)
        new_rows: list[int] = []
        for i in range(context.shape[0]):
            key = context[i].tobytes() + mask[i].tobytes()
            row = self._index.get(key)
            if row is None:
                row = self._index[key] = len(self._index)
                new_rows.append(i)
            rows[i] = row
        if new_rows:
            robots = {
                CONTEXT: torch.as_tensor(context[new_rows], device=device),
                LIMB_MASK: torch.as_tensor(mask[new_rows], device=device),
            }
            fresh = self.model.actor.context_cache(robots)
            self._table = fresh if self._table is None else _concat_cache(self._table, fresh)
        return torch.as_tensor(rows, device=device)

    def forward(self, obs_np: Mapping[str, np.ndarray], obs: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        rows = self.rows_for(obs_np, obs[LIMB_MASK].device)
        cache = gather_cache(self._table, rows)
        return self.model.actor(obs, cache=cache), self.model.critic(obs)


def _concat_cache(old: Any, new: Any) -> Any:
    if isinstance(old, torch.Tensor):
        return torch.cat([old, new], dim=0)
    if isinstance(old, dict):
        return {key: _concat_cache(old[key], new[key]) for key in old}
    if isinstance(old, (list, tuple)):
        return type(old)(_concat_cache(a, b) for a, b in zip(old, new))
    return old
