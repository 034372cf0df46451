"""Synthetic observations with the declared layout (for unit tests and benchmarks without an env)."""

from __future__ import annotations

import numpy as np
import torch

from workbench.envs import layout


def synthetic_obs(batch: int, task: str = "ft", num_limbs: int | list[int] | None = None, seed: int = 0,
                  scale: float = 1.0) -> dict[str, torch.Tensor]:
    """Random raw observations (B, ...) with plausible masks: limb slots 0..n-1 real, the torso's
    action slots masked, one or two joints per limb; padded slots hold zeros."""
    rng = np.random.default_rng(seed)
    if num_limbs is None:
        limbs = rng.integers(3, layout.MAX_LIMBS + 1, size=batch)
    elif isinstance(num_limbs, int):
        limbs = np.full(batch, num_limbs)
    else:
        limbs = np.asarray(num_limbs)
    proprio = rng.normal(0.0, scale, (batch, layout.MAX_LIMBS, layout.PROPRIOCEPTIVE.size))
    context = rng.uniform(-1.0, 1.0, (batch, layout.MAX_LIMBS, layout.CONTEXT.size))
    limb_mask = np.zeros((batch, layout.MAX_LIMBS))
    action_mask = np.zeros((batch, layout.ACTION_DIM))
    for b, n in enumerate(limbs):
        limb_mask[b, :n] = 1.0
        for i in range(1, n):
            action_mask[b, 2 * i] = 1.0
            if rng.random() < 0.5:
                action_mask[b, 2 * i + 1] = 1.0
    proprio *= limb_mask[..., None]
    context *= limb_mask[..., None]
    obs = {
        layout.OBS_PROPRIOCEPTIVE: proprio,
        layout.OBS_CONTEXT: context,
        layout.OBS_LIMB_MASK: limb_mask,
        layout.OBS_ACTION_MASK: action_mask,
    }
    if task != "ft":
        obs[layout.OBS_HEIGHTMAP] = rng.normal(0.0, scale, (batch, layout.HEIGHTMAP_SIZE))
    return {k: torch.as_tensor(v, dtype=torch.float32) for k, v in obs.items()}
