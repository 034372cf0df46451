"""Atomic files and the trainer's resume checkpoint.

``RUN_DIR/checkpoint.pt`` holds everything a run needs to continue bit-exactly:
model, optimiser, return normaliser, robot sampler, RNG states, the vector env's
state, the observation the next rollout starts from, and counters. It is written
to a temporary file in the same directory, flushed to disk, then renamed over the
old one, so a kill at any moment leaves either the old or the new checkpoint.

Nested numpy arrays are stored as tensors (tagged), so the file loads with
``torch.load(weights_only=True)``: no code runs when a checkpoint is read.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.errors import WorkbenchError
from workbench.files import atomic_write_bytes

CHECKPOINT_FORMAT = "workbench-ppo-run"
CHECKPOINT_VERSION = 1
_NDARRAY_TAG = "__ndarray__"


def to_storable(value: Any) -> Any:
    """Nested dict/list/tuple with numpy arrays and scalars -> only tensors and Python primitives."""
    if isinstance(value, np.ndarray):
        # np.array, not np.ascontiguousarray: the latter turns a 0-d array into shape (1,).
        return {_NDARRAY_TAG: torch.from_numpy(np.array(value, order="C", copy=True))}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {key: to_storable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_storable(item) for item in value)
    return value


def from_storable(value: Any) -> Any:
    """Inverse of :func:`to_storable`."""
    if isinstance(value, dict):
        if set(value) == {_NDARRAY_TAG}:
            return value[_NDARRAY_TAG].numpy().copy()
        return {key: from_storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_storable(item) for item in value]
    if isinstance(value, tuple):
        return tuple(from_storable(item) for item in value)
    return value


def save_run_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Atomically write a trainer state (see ``PPOTrainer.state_dict``)."""
    payload = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "state": to_storable(state)}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_run_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a trainer state; a missing, truncated, corrupted or foreign file is a one-line WorkbenchError."""
    path = Path(path)
    if not path.is_file():
        raise WorkbenchError("no checkpoint to resume from (file missing)", path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for damaged files
        kind = error.__class__.__name__
        raise WorkbenchError(f"corrupted or truncated checkpoint, cannot be read ({kind})", path) from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise WorkbenchError("not a workbench training checkpoint", path)
    if payload.get("version") != CHECKPOINT_VERSION:
        raise WorkbenchError(
            f"training checkpoint version {payload.get('version')} is not supported (expected {CHECKPOINT_VERSION})",
            path,
        )
    return from_storable(payload["state"])


def capture_rng_state() -> dict[str, Any]:
    """Global RNG states (Python, numpy legacy, torch CPU and CUDA) for exact resume."""
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["torch_cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    random.setstate(_as_tuple(state["python"]))
    np.random.set_state(_as_tuple(state["numpy"]))
    torch.set_rng_state(state["torch"])
    if "torch_cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["torch_cuda"])


def _as_tuple(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_as_tuple(item) for item in value)
    return value
