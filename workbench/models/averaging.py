"""Uniform weight averaging of checkpoints of one architecture (e.g. a student's last DAgger rounds).

Consecutive DAgger rounds fine-tune one network on growing data, so their weights stay in one basin
and their average is itself a working network, sometimes better than each of them (as stochastic
weight averaging and "model soups" found for other fine-tuning runs). Measured here in
``checkpoints/README.md``: better than both rounds for the shipped HN, between them for a wider one.

Only learned parameters are averaged. Buffers (the observation normaliser's statistics) must be
equal in every checkpoint: an average of normalisers would describe no data, so it is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import torch
from torch import nn

from workbench.errors import WorkbenchError
from workbench.models.checkpoint import load_checkpoint, save_checkpoint


class StateDictMismatch(ValueError):
    """State ``index`` (0-based) cannot be averaged with the first: ``problem`` says why."""

    def __init__(self, index: int, problem: str) -> None:
        super().__init__(f"state {index}: {problem}")
        self.index = index
        self.problem = problem


def average_state_dicts(
    states: Sequence[Mapping[str, torch.Tensor]], parameter_names: set[str]
) -> dict[str, torch.Tensor]:
    """The entry-wise mean of ``states`` over ``parameter_names``; every other entry copied from the
    first state and required to be equal in all of them.

    Args:
        states: K >= 1 state dicts with the same keys and shapes.
        parameter_names: the keys to average (the model's learned parameters).

    Returns:
        One state dict; an averaged tensor keeps its dtype (the mean is taken in float64).

    Raises:
        ValueError for no states; :class:`StateDictMismatch` naming the first state and key that
        differ from the first state in presence, shape or (for buffers) value.
    """
    if not states:
        raise ValueError("no state dicts to average")
    first = states[0]
    for index, state in enumerate(states[1:], start=1):
        if state.keys() != first.keys():
            missing = sorted(set(first) ^ set(state))[0]
            raise StateDictMismatch(index, f"differs in its entries ({missing})")
    averaged: dict[str, torch.Tensor] = {}
    for key, reference in first.items():
        tensors = [state[key] for state in states]
        for index, tensor in enumerate(tensors[1:], start=1):
            if tensor.shape != reference.shape:
                raise StateDictMismatch(index, f"{key} has a different shape")
            if key not in parameter_names and not torch.equal(tensor, reference):
                raise StateDictMismatch(index, f"buffer {key} differs (averaging needs equal observation statistics)")
        if key in parameter_names:
            mean = torch.stack([tensor.to(torch.float64) for tensor in tensors]).mean(dim=0)
            averaged[key] = mean.to(reference.dtype)
        else:
            averaged[key] = reference.clone()
    return averaged


def average_checkpoints(paths: Sequence[str | Path], out: str | Path) -> nn.Module:
    """Write to ``out`` the checkpoint whose parameters are the mean of those of ``paths``.

    The configuration and everything stored with it come from the last checkpoint, plus
    ``extra["averaged_from"]`` (the paths). WorkbenchError (naming the file) where a checkpoint is
    unreadable or not of the first one's architecture.
    """
    if len(paths) < 2:
        raise WorkbenchError("averaging needs at least two checkpoints")
    checkpoints = [load_checkpoint(path) for path in paths]
    reference = checkpoints[0]
    for checkpoint in checkpoints[1:]:
        if (checkpoint.kind, checkpoint.config, checkpoint.critic_config) != (
            reference.kind, reference.config, reference.critic_config
        ):
            raise WorkbenchError(f"not of the same architecture as {reference.path}", checkpoint.path)
    model = checkpoints[-1].model
    names = {name for name, _ in model.named_parameters()}
    try:
        state = average_state_dicts([checkpoint.model.state_dict() for checkpoint in checkpoints], names)
    except StateDictMismatch as error:
        raise WorkbenchError(f"cannot be averaged with {reference.path}: {error.problem}",
                             checkpoints[error.index].path) from None
    model.load_state_dict(state)
    extra = dict(checkpoints[-1].extra)
    extra["averaged_from"] = [str(path) for path in paths]
    save_checkpoint(out, model, extra)
    return model
