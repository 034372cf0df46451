"""Export one generated actor as a ``workbench.deploy`` MLP (.npz): the same numpy runtime as the
HyperDistill generated MLPs. The deterministic action ``tanh(mean) * scale + bias`` is reproduced with the
runtime's optional output squash (``action_scale`` / ``action_bias`` arrays)."""

from __future__ import annotations

import numpy as np
import torch

from workbench.deploy import GeneratedMLP
from workbench.small_policies.actors import Actor
from workbench.small_policies.envs import Layout
from workbench.small_policies.space import Architecture


def to_deploy(actor: Actor, arch: Architecture | None, lay: Layout, name: str) -> GeneratedMLP:
    """The actor (``arch`` for the GHP) as a GeneratedMLP whose ``act`` equals the torch mean action."""
    with torch.no_grad():
        params = [p.detach().numpy().astype(np.float32) for p in actor.mlp_params(arch)]
    weights, biases = params[0::2], params[1::2]
    act = actor.act_dim
    arrays: dict[str, np.ndarray] = {"input_weight": weights[0].T.copy(), "input_bias": biases[0]}
    for k, (w, b) in enumerate(zip(weights[1:-1], biases[1:-1])):
        arrays[f"hidden{k}_weight"], arrays[f"hidden{k}_bias"] = w.T.copy(), b
    arrays["output_weight"] = weights[-1][:act].T.copy()          # the mean half of the Gaussian head
    arrays["output_bias"] = biases[-1][:act]
    n = len(lay.limb_slots)
    arrays.update(
        limb_slots=np.asarray(lay.limb_slots, np.int64), state_indices=np.arange(lay.state_size, dtype=np.int64),
        state_mean=np.zeros((n, lay.state_size), np.float32), state_std=np.ones((n, lay.state_size), np.float32),
        limb_mask=np.isin(np.arange(12), lay.limb_slots).astype(np.float32),
        action_mask=np.isin(np.arange(24), lay.action_slots).astype(np.float32),
        action_slots=np.asarray(lay.action_slots, np.int64),
        action_scale=actor.scale.numpy().astype(np.float32), action_bias=actor.bias.numpy().astype(np.float32))
    arch_text = ",".join(map(str, arch or (256, 256)))
    return GeneratedMLP.from_arrays(arrays, {"robot": name, "architecture": arch_text, "clip": 3.0e38,
                                             "source": "graph-hyper-policy" if actor.kind == "ghp" else "sac-mlp"})
