"""Compute each robot's morphology-only work once per batch instead of once per sample.

ModuMorph's hypernetworks (per-limb embedding and decoder weights) and its fixed
attention weights depend on the robot's context only. In a PPO batch thousands of
samples share a few dozen robots, so ``actor.context_cache`` is computed for the
unique robots only (a "table" of R rows) and used per sample through an inverse
index. Gradients flow through the table exactly as through per-sample caches.

Two ways to use the table:

- generic: gather the table per sample and call ``actor(obs, cache=...)``. Works for
  any actor with ``context_cache``; but gathering the generated embedding weights
  (12 x 52 x d per sample) and applying them as per-sample matrix-vector products is
  memory-bound.
- grouped (ModuMorph transformer): ``actor(obs, cache=table, robot_index=inverse)``
  applies the generated per-limb layers as one batched matrix product per (robot, limb)
  on samples grouped by robot (``workbench.models.layers.grouped_linear``). About twice
  as fast on CPU. :class:`ContextSharing` checks it against the per-sample path
  (perturbed weights, eval mode) before using it, and falls back otherwise.

Every forward pass here also trims the limb slots after the batch's last real limb
(``trim_padding``): the robots of a batch often have 9 limbs or fewer of the 12 slots.

Robots are recognised by their observation content (context features and limb mask),
never by an index the environment might renumber; a projection finds candidate groups
and an exact comparison confirms them (otherwise: no sharing).
"""

from __future__ import annotations

import copy
import warnings
from typing import Any, Mapping

import numpy as np
import torch

CONTEXT = "context"
LIMB_MASK = "limb_mask"
ACTION_MASK = "action_mask"


def supports_context_sharing(model: torch.nn.Module) -> bool:
    """True for an actor-critic whose actor accepts ``forward(obs, cache=...)`` and has ``context_cache``."""
    actor = getattr(model, "actor", None)
    return actor is not None and hasattr(actor, "context_cache") and hasattr(model, "critic")


def _robot_rows(obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
    batch = obs[LIMB_MASK].shape[0]
    return torch.cat([obs[CONTEXT].reshape(batch, -1), obs[LIMB_MASK].reshape(batch, -1)], dim=1)


def unique_robots(obs: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(first sample of each unique robot (R,), inverse index (B,)) or None if a check fails."""
    rows = _robot_rows(obs)
    columns = torch.arange(rows.shape[1], dtype=torch.float64, device=rows.device)
    projection = (1.0 + columns / rows.shape[1]) * torch.cos(columns * 1.7)
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


def concat_cache(old: Any, new: Any) -> Any:
    """Concatenate two caches of the same structure along the batch axis."""
    if isinstance(old, torch.Tensor):
        return torch.cat([old, new], dim=0)
    if isinstance(old, dict):
        return {key: concat_cache(old[key], new[key]) for key in old}
    if isinstance(old, (list, tuple)):
        return type(old)(concat_cache(a, b) for a, b in zip(old, new))
    return old


def _is_modumorph_transformer(actor: torch.nn.Module) -> bool:
    return getattr(actor, "modumorph", False) is True and all(
        hasattr(actor, name)
        for name in ("prepare", "layers", "embed_dropout", "final_norm", "heightmap_encoder", "pos_embedding", "mask_actions")
    )


def verify_grouped_forward(actor: torch.nn.Module, obs: Mapping[str, torch.Tensor]) -> bool:
    """True when the grouped forward pass (padded limb slots trimmed) matches the actor's own on
    ``obs`` (weights perturbed, eval mode; on a copy, without touching any global random state)."""
    try:
        probe = copy.deepcopy(actor).eval()
        generator = torch.Generator().manual_seed(12345)
        with torch.no_grad():
            for parameter in probe.parameters():
                noise = torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype)
                parameter.add_(0.05 * noise.to(parameter.device))
            groups = unique_robots(obs)
            if groups is None:
                return False
            first, inverse = groups
            table = probe.context_cache({CONTEXT: obs[CONTEXT][first], LIMB_MASK: obs[LIMB_MASK][first]})
            fast = probe(obs, cache=table, robot_index=inverse, trim_padding=True)
            reference = probe(obs)
        scale = float(reference.abs().max()) + 1e-6
        return bool(torch.isfinite(fast).all()) and float((fast - reference).abs().max()) <= 1e-4 * max(1.0, scale)
    except Exception as error:  # any mismatch of internals: use the generic path
        warnings.warn(f"grouped ModuMorph forward unavailable ({error.__class__.__name__}: {error})", stacklevel=2)
        return False


class ContextSharing:
    """Forward passes of an actor-critic with the actor's morphology-only work done once per robot.

    ``enabled`` is False for models without ``actor.context_cache`` (MetaMorph, MLP, HN): then
    every method simply calls the model.
    """

    def __init__(self, model: torch.nn.Module, example_obs: Mapping[str, torch.Tensor] | None = None, enabled: bool = True) -> None:
        self.model = model
        self.enabled = enabled and supports_context_sharing(model)
        self.grouped = bool(
            self.enabled
            and example_obs is not None
            and _is_modumorph_transformer(model.actor)
            and verify_grouped_forward(model.actor, example_obs)
        )

    def actor_from_table(self, obs: Mapping[str, torch.Tensor], table: Any, inverse: torch.Tensor) -> torch.Tensor:
        if self.grouped:
            return self.model.actor(obs, cache=table, robot_index=inverse, trim_padding=True)
        return self.model.actor(obs, cache=gather_cache(table, inverse), trim_padding=True)

    def actor(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The action mean (B, 24) as ``model.actor(obs)``, without the critic."""
        if not self.enabled:
            return self.model.actor(obs)
        groups = unique_robots(obs)
        if groups is None:
            return self.model.actor(obs)
        first, inverse = groups
        table = self.model.actor.context_cache({CONTEXT: obs[CONTEXT][first], LIMB_MASK: obs[LIMB_MASK][first]})
        return self.actor_from_table(obs, table, inverse)

    def forward(self, obs: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean (B, 24), value (B,)) as ``model(obs)``."""
        return self.actor(obs), self.model.critic(obs)


class RolloutContextCache:
    """Per-robot actor caches for acting during one rollout (the weights do not change inside it).

    Keyed by the bytes of a robot's context and limb mask; call :meth:`clear` when the
    weights change (at the start of every rollout). For the batch of all envs, a per-env
    copy of the cache is kept and only rewritten where an env changed robot, so a step
    costs the actor's own forward pass with a ready cache (small batches run fastest
    that way; no per-step gathering or grouping).
    """

    def __init__(self, sharing: ContextSharing) -> None:
        self.sharing = sharing
        self._index: dict[bytes, int] = {}
        self._table: Any = None
        self._env_rows: torch.Tensor | None = None
        self._env_cache: Any = None

    def clear(self) -> None:
        self._index.clear()
        self._table = None
        self._env_rows = None
        self._env_cache = None

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
            fresh = self.sharing.model.actor.context_cache(robots)
            self._table = fresh if self._table is None else concat_cache(self._table, fresh)
        return torch.as_tensor(rows, device=device)

    def forward(self, obs_np: Mapping[str, np.ndarray], obs: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Any batch (e.g. the final observations of some envs)."""
        if not self.sharing.enabled:
            return self.sharing.model(obs)
        rows = self.rows_for(obs_np, obs[LIMB_MASK].device)
        cache = gather_cache(self._table, rows)
        return self.sharing.model.actor(obs, cache=cache, trim_padding=True), self.sharing.model.critic(obs)

    def forward_envs(self, obs_np: Mapping[str, np.ndarray], obs: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch of all envs, in env order (the per-step call of a rollout)."""
        if not self.sharing.enabled:
            return self.sharing.model(obs)
        rows = self.rows_for(obs_np, obs[LIMB_MASK].device)
        if self._env_rows is None or self._env_rows.shape != rows.shape:
            self._env_cache = gather_cache(self._table, rows)
        else:
            changed = torch.nonzero(rows != self._env_rows).flatten()
            if changed.numel():
                _assign_rows(self._env_cache, changed, gather_cache(self._table, rows[changed]))
        self._env_rows = rows
        return self.sharing.model.actor(obs, cache=self._env_cache, trim_padding=True), self.sharing.model.critic(obs)


def _assign_rows(cache: Any, index: torch.Tensor, values: Any) -> None:
    """cache[index] = values, tensor by tensor (same nested structure)."""
    if isinstance(cache, torch.Tensor):
        cache[index] = values
    elif isinstance(cache, dict):
        for key in cache:
            _assign_rows(cache[key], index, values[key])
    elif isinstance(cache, (list, tuple)):
        for a, b in zip(cache, values):
            _assign_rows(a, index, b)
