"""Self-describing checkpoints: one ``torch.save`` file of plain types and tensors.

Contents: format name and version, workbench version, kind (``policy`` or ``actor_critic``), the
configuration(s) as dicts, the observation layout, ``state_dict`` (normaliser statistics included)
and an optional ``extra`` payload (e.g. the trainer's optimizer state). Loaded with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from workbench import __version__
from workbench.envs import layout
from workbench.errors import WorkbenchError
from workbench.files import atomic_write
from workbench.models.actor_critic import ActorCritic
from workbench.models.config import config_from_dict, config_to_dict
from workbench.models.registry import build_policy

FORMAT_NAME = "hyperdistill-workbench-checkpoint"
FORMAT_VERSION = 1


def observation_layout() -> dict[str, Any]:
    """The observation layout this build reads, as plain data (stored in every checkpoint)."""
    return {
        "max_limbs": layout.MAX_LIMBS,
        "action_dim": layout.ACTION_DIM,
        "proprioceptive": [[n, w] for n, w in layout.PROPRIOCEPTIVE.fields],
        "context": [[n, w] for n, w in layout.CONTEXT.fields],
        "state_indices": list(layout.state_indices()),
        "heightmap_size": layout.HEIGHTMAP_SIZE,
    }


@dataclass
class Checkpoint:
    """A loaded checkpoint: the rebuilt model plus everything stored with it."""

    model: nn.Module
    kind: str
    config: Any
    critic_config: Any | None
    extra: dict[str, Any] = field(default_factory=dict)
    workbench_version: str = ""
    path: str = ""

    @property
    def policy(self) -> nn.Module:
        """The acting policy (the actor of an actor-critic)."""
        return self.model.actor if isinstance(self.model, ActorCritic) else self.model


def save_checkpoint(path: str | Path, model: nn.Module, extra: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (a policy or an :class:`ActorCritic`) to ``path`` atomically."""
    path = Path(path)
    if isinstance(model, ActorCritic):
        kind = "actor_critic"
        config = config_to_dict(model.actor.config)
        critic_config = config_to_dict(model.critic.config)
    else:
        kind = "policy"
        config = config_to_dict(model.config)
        critic_config = None
    payload = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "workbench_version": __version__,
        "kind": kind,
        "config": config,
        "critic_config": critic_config,
        "observation_layout": observation_layout(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "extra": dict(extra or {}),
    }
    atomic_write(path, lambda handle: torch.save(payload, handle))
    return path


def _read(path: Path, mmap: bool = False) -> dict[str, Any]:
    """The validated payload of a checkpoint file; ``mmap`` maps the tensors instead of reading them
    (for callers that only want the header or ``extra``)."""
    if not path.is_file():
        raise WorkbenchError("no such checkpoint file", path=path)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    is_zip = magic.startswith(b"PK")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as error:  # noqa: BLE001 - any failure to read is a bad checkpoint
        if is_zip and not zipfile.is_zipfile(path):
            raise WorkbenchError("checkpoint is truncated or corrupt (cannot read the archive)", path=path) from None
        if is_zip:
            raise WorkbenchError(f"checkpoint is truncated or corrupt ({type(error).__name__})", path=path) from None
        raise WorkbenchError("not a workbench checkpoint (not a torch archive)", path=path) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise WorkbenchError("not a workbench checkpoint (no workbench header)", path=path)
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise WorkbenchError(
            f"checkpoint format version {version} is not supported (this workbench {__version__} reads "
            f"version {FORMAT_VERSION})", path=path)
    stored = payload.get("observation_layout")
    if stored != observation_layout():
        raise WorkbenchError("checkpoint was made for a different observation layout", path=path)
    return payload


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read and rebuild any checkpoint written by :func:`save_checkpoint` (model in eval mode)."""
    path = Path(path)
    payload = _read(path)
    try:
        config = config_from_dict(payload["config"])
        critic_config = None
        if payload["kind"] == "actor_critic":
            critic_config = config_from_dict(payload["critic_config"])
            model: nn.Module = ActorCritic(build_policy(config), build_policy(critic_config))
        elif payload["kind"] == "policy":
            model = build_policy(config)
        else:
            raise WorkbenchError(f"unknown checkpoint kind {payload['kind']!r}", path=path)
        model.load_state_dict(payload["state_dict"])
    except WorkbenchError as error:
        raise WorkbenchError(error.problem, path=path) from None
    except (KeyError, RuntimeError, TypeError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise WorkbenchError(f"checkpoint does not match its configuration ({first})", path=path) from None
    model.eval()
    return Checkpoint(model=model, kind=payload["kind"], config=config, critic_config=critic_config,
                      extra=payload.get("extra") or {}, workbench_version=payload.get("workbench_version", ""),
                      path=str(path))


def read_checkpoint_extra(path: str | Path) -> dict[str, Any]:
    """What was stored with a checkpoint (``extra``: distillation record, averaged_from, ...) without
    loading its weights; WorkbenchError as :func:`load_checkpoint` for bad files."""
    return dict(_read(Path(path), mmap=True).get("extra") or {})


def load_policy(path: str | Path) -> nn.Module:
    """The model stored in ``path`` (a policy, or an :class:`ActorCritic`), in eval mode.

    Use ``load_checkpoint(path).policy`` for the acting policy whatever the kind."""
    return load_checkpoint(path).model
