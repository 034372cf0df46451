"""Students: build one, give it the teacher's frozen normalisation, run it on robot-grouped batches.

Forward passes on a minibatch of C chunks x n transitions (each chunk one robot):

- HyperDistill: the hypernetwork generates the base MLP of each distinct robot of the minibatch once
  (dropout on the context embeddings, as in training), and the base MLP runs as batched matrix
  products over (chunk, limb) (:func:`hyperdistill_grouped`). This restates
  ``HyperDistillPolicy.per_limb_outputs`` for grouped samples; a test checks that both agree.
- ModuMorph transformers: the per-robot part (hypernetwork outputs, fixed attention) is computed per
  distinct robot and applied with the trainer's grouped forward (``training.context_sharing``).
- MetaMorph transformers and the multi-robot MLP have no per-robot part: their ordinary forward pass.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workbench.envs import layout
from workbench.errors import WorkbenchError

STUDENT_METHODS = ("hyperdistill", "modumorph", "modumorph-compressed", "tf-compressed", "mlp", "metamorph")


def build_student(method: str, model: str, overrides: Mapping[str, Any], task: str) -> nn.Module:
    """The student policy ``get_model_config(model, method)`` with ``overrides`` replaced."""
    from workbench.models import build_policy, get_model_config

    if method not in STUDENT_METHODS:
        raise WorkbenchError(f"unknown student {method!r} (expected one of {', '.join(STUDENT_METHODS)})")
    config = get_model_config(model, method)
    try:
        config = dataclasses.replace(config, **dict(overrides))
    except TypeError as error:
        raise WorkbenchError(f"invalid model override for {method}: {error}") from None
    if config.task != task:
        raise WorkbenchError(f"model configuration {model!r} is for task {config.task!r}, the dataset for {task!r}")
    return build_policy(config)


def load_teacher_normalization(policy: nn.Module, state: Mapping[str, np.ndarray]) -> None:
    """Copy the teacher's observation-normaliser buffers into the student's (the student is never
    asked to update them, so they stay frozen)."""
    own = policy.normalizer.state_dict()
    if set(own) != set(state):
        raise WorkbenchError("the dataset's normalisation statistics do not fit this student "
                             f"(dataset: {sorted(state)}, student: {sorted(own)})")
    policy.normalizer.load_state_dict({k: torch.as_tensor(np.asarray(v), dtype=own[k].dtype).reshape(own[k].shape)
                                       for k, v in state.items()})


def load_initial_weights(policy: nn.Module, path: str) -> None:
    """Start ``policy`` from the weights of the student checkpoint ``path`` (same method and size; a
    later DAgger round continues from the previous round's student instead of starting afresh)."""
    from workbench.models import load_checkpoint

    source = load_checkpoint(path).policy
    if type(source) is not type(policy):
        raise WorkbenchError(f"initial policy is a {type(source).__name__}, the student a "
                             f"{type(policy).__name__}", path)
    own, theirs = policy.state_dict(), source.state_dict()
    differences = sorted(set(own) ^ set(theirs)) + sorted(
        key for key in set(own) & set(theirs) if own[key].shape != theirs[key].shape)
    if differences:
        raise WorkbenchError(f"initial policy has another size than the student (first difference: "
                             f"{differences[0]})", path)
    policy.load_state_dict(theirs)


def batch_to_torch(batch: Mapping[str, np.ndarray]) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    """A grouped batch from :meth:`DistillDataset.batch` -> (flat observation dict (C*n, ...) with
    the static arrays repeated per sample, teacher means (C*n, 24), chunk robot ids (C,))."""
    proprio = torch.from_numpy(np.ascontiguousarray(batch[layout.OBS_PROPRIOCEPTIVE]))
    chunks, n = proprio.shape[:2]
    obs: dict[str, torch.Tensor] = {layout.OBS_PROPRIOCEPTIVE: proprio.reshape(chunks * n, *proprio.shape[2:])}
    for key in (layout.OBS_CONTEXT, layout.OBS_LIMB_MASK, layout.OBS_ACTION_MASK):
        value = torch.from_numpy(np.ascontiguousarray(batch[key]))
        obs[key] = value[:, None].expand(chunks, n, *value.shape[1:]).reshape(chunks * n, *value.shape[1:])
    if layout.OBS_HEIGHTMAP in batch:
        hm = torch.from_numpy(np.ascontiguousarray(batch[layout.OBS_HEIGHTMAP]))
        obs[layout.OBS_HEIGHTMAP] = hm.reshape(chunks * n, -1)
    target = torch.from_numpy(np.ascontiguousarray(batch["action_mean"])).reshape(chunks * n, layout.ACTION_DIM)
    return obs, target, torch.from_numpy(np.asarray(batch["robot"], dtype=np.int64))


def _first_sample_of_each_robot(chunk_robot: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(first sample row of each distinct robot (U,), distinct-robot index of each chunk (C,)) for C
    chunks of ``n`` samples with robot ids ``chunk_robot`` (C,)."""
    unique, inverse = torch.unique(chunk_robot, return_inverse=True)
    starts = torch.arange(chunk_robot.shape[0], device=chunk_robot.device) * n
    first = torch.zeros(len(unique), dtype=torch.long, device=chunk_robot.device).scatter_(0, inverse, starts)
    return first, inverse


def hyperdistill_grouped(policy: nn.Module, obs: Mapping[str, torch.Tensor], chunk_robot: torch.Tensor) -> torch.Tensor:
    """HyperDistill action means (C*n, 24) for samples grouped in C equal chunks, one robot per chunk.

    Args:
        policy: a ``HyperDistillPolicy``.
        obs: flat observation dict (C*n, ...), chunk c's samples at rows ``[c*n, (c+1)*n)``.
        chunk_robot: (C,) robot id of each chunk (equal ids: the same robot, generated once).
    """
    chunks = chunk_robot.shape[0]
    n = obs[layout.OBS_LIMB_MASK].shape[0] // chunks
    first, inverse = _first_sample_of_each_robot(chunk_robot, n)
    x = policy.prepare(obs)
    layers = policy.generate_layers(x["context"][first], x["limb_mask"][first])  # one per distinct robot

    def per_chunk(t: torch.Tensor) -> torch.Tensor:
        return t.index_select(0, inverse)

    # The input layer sum_i (s_i W_i + b_i) over real limbs i is one product of the limbs' stacked
    # states (padded slots zero) with the stacked weights: (n, 12 * 17) @ (12 * 17, H) per chunk.
    robot_mask = (x["limb_mask"][first] > 0).to(x["proprio"].dtype).index_select(0, inverse)  # (C, 12)
    s = x["proprio"].index_select(-1, policy.state_indices) * robot_mask.repeat_interleave(n, 0)[..., None]
    w_in, b_in = (per_chunk(t) for t in layers["input"])  # (C, 12, 17, H), (C, 12, H)
    bias = (b_in * robot_mask[..., None]).sum(1)  # (C, H)
    h = F.relu(torch.baddbmm(bias[:, None], s.reshape(chunks, n, -1), w_in.reshape(chunks, -1, w_in.shape[-1])))
    if policy.heightmap_encoder is not None:
        hm = policy.heightmap_encoder(x["heightmap"]).reshape(chunks, n, -1)
        h = torch.cat([h, hm], dim=-1)
    for w, b in layers["hidden"]:
        h = F.relu(torch.baddbmm(per_chunk(b)[:, None], h, per_chunk(w)))
    # Output layer: limb l's (H, 2) weights side by side -> (H, 24), one product per chunk.
    w_out, b_out = (per_chunk(t) for t in layers["output"])  # (C, 12, H, 2), (C, 12, 2)
    w_out = w_out.permute(0, 2, 1, 3).reshape(chunks, w_out.shape[2], layout.ACTION_DIM)
    out = torch.baddbmm(b_out.reshape(chunks, 1, layout.ACTION_DIM), h, w_out)  # (C, n, 24)
    return policy.mask_actions(out.reshape(chunks * n, layout.MAX_LIMBS, -1), obs[layout.OBS_ACTION_MASK])


class GroupedStudent:
    """``forward(obs, chunk_robot)`` of any student on a robot-grouped batch (see the module doc)."""

    def __init__(self, policy: nn.Module, example_obs: Mapping[str, torch.Tensor] | None = None) -> None:
        from workbench.models import HyperDistillPolicy

        self.policy = policy
        self.kind = "generic"
        if isinstance(policy, HyperDistillPolicy):
            self.kind = "hyperdistill"
        elif getattr(policy, "modumorph", False) and hasattr(policy, "context_cache"):
            from workbench.training.context_sharing import verify_grouped_forward

            grouped = example_obs is not None and verify_grouped_forward(policy, example_obs)
            self.kind = "modumorph-grouped" if grouped else "modumorph-cached"

    def __call__(self, obs: Mapping[str, torch.Tensor], chunk_robot: torch.Tensor) -> torch.Tensor:
        if self.kind == "hyperdistill":
            return hyperdistill_grouped(self.policy, obs, chunk_robot)
        if self.kind.startswith("modumorph"):
            from workbench.training.context_sharing import gather_cache

            chunks = chunk_robot.shape[0]
            n = obs[layout.OBS_LIMB_MASK].shape[0] // chunks
            first, inverse = _first_sample_of_each_robot(chunk_robot, n)
            table = self.policy.context_cache({layout.OBS_CONTEXT: obs[layout.OBS_CONTEXT][first],
                                               layout.OBS_LIMB_MASK: obs[layout.OBS_LIMB_MASK][first]})
            sample_robot = inverse.repeat_interleave(n)
            if self.kind == "modumorph-grouped":
                return self.policy(obs, cache=table, robot_index=sample_robot, trim_padding=True)
            return self.policy(obs, cache=gather_cache(table, sample_robot), trim_padding=True)
        return self.policy(obs)
