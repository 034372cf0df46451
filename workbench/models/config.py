"""Model configurations: one dataclass per model class, variants are field values.

Every configuration is plain data (ints, floats, strings, tuples of ints) so it can be
stored inside a checkpoint as a dict and rebuilt exactly (:func:`config_to_dict`,
:func:`config_from_dict`). Named configurations come from :func:`get_model_config`:

- ``paper-ft``, ``paper-vt``, ``paper-obstacle``: the paper's Table 2 sizes for every method
  (``modumorph`` = teacher / oracle, ``metamorph``, ``hyperdistill``, ``mlp``, ``tf-compressed``,
  ``modumorph-compressed``) plus a ``critic``.
- ``workbench-ft``, ``workbench-vt``, ``workbench-obstacle``: the same architectures, smaller, sized to
  train on a 2-core CPU.

Attention heads follow the paper's accounting (Appendix B.2 and Table 1): unless ``head_dim`` is
given, every head is as wide as the embedding (``head_dim = d_model``) and the heads are
concatenated before the output projection. That convention is what reproduces Table 1's parameter and
FLOP figures for the ModuMorph teacher (2 heads), so the paper configurations use it; smaller
configurations may set ``head_dim`` explicitly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Union

from workbench.errors import WorkbenchError

TASKS = ("ft", "vt", "obstacle")
METHODS = ("modumorph", "metamorph", "hyperdistill", "mlp", "tf-compressed", "modumorph-compressed")
# Workbench-scale policies explore with std 0.5 instead of the paper's 0.9: on a single published
# robot (MLP, PPO, 1M steps) 0.5 reached ~2050 against ~1000 for 0.9 and ~1460 for 0.3, and the
# teacher's budget here is hours, not the paper's 100M steps. (Recent return of `workbench train-teacher
# --policy mlp --robots DIR_WITH_floor-1409-0-3-01-15-56-55 --set num_envs=16 --set epochs=10
# --set minibatch_size=64 --set lr=0.0003 --set 'model_overrides={"action_std": S}'`.)
WORKBENCH_ACTION_STD = 0.5
CONFIG_NAMES = ("paper-ft", "paper-vt", "paper-obstacle", "workbench-ft", "workbench-vt", "workbench-obstacle")


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise WorkbenchError(f"unknown task {task!r} (expected one of {', '.join(TASKS)})")


@dataclass(frozen=True)
class TransformerConfig:
    """MetaMorph (``variant="metamorph"``) or ModuMorph (``variant="modumorph"``) transformer."""

    kind: str = "transformer"
    task: str = "ft"
    variant: str = "metamorph"  # "metamorph" | "modumorph"
    d_model: int = 128
    num_layers: int = 5
    num_heads: int = 2
    head_dim: int | None = None  # None: d_model (full-width heads, the paper's accounting)
    feedforward_dim: int = 1024
    dropout: float = 0.0
    positional_embedding: bool = False  # MetaMorph option: learned (12, d_model) embedding
    embed_scale: bool = True  # multiply the limb embedding by sqrt(d_model)
    final_norm: bool = True
    decoder_hidden_dims: tuple[int, ...] = ()
    heightmap_dims: tuple[int, ...] = (64, 64)  # used on vt / obstacle only
    hn_hidden: int = 128  # ModuMorph: width of the context encoders of its hypernetworks
    hn_weight_init_std: float = 0.0  # ModuMorph: hypernetwork output heads start at zero weights
    outputs_per_limb: int = 2  # 2 for a policy (x, y joint); 1 for a per-limb value head
    action_std: float = 0.9

    @property
    def resolved_head_dim(self) -> int:
        return self.head_dim if self.head_dim is not None else self.d_model

    @property
    def uses_heightmap(self) -> bool:
        return self.task != "ft"


@dataclass(frozen=True)
class HyperDistillConfig:
    """HyperDistill: a hypernetwork generating a per-robot base MLP."""

    kind: str = "hyperdistill"
    task: str = "ft"
    hidden_dim: int = 256
    num_hidden_layers: int = 2  # hidden layers of the base MLP, the input layer's output included
    embed_dim: int = 128  # context embedding width
    context_encoder: str = "transformer"  # "linear" | "mlp" | "transformer"
    encoder_heads: int = 2
    encoder_head_dim: int | None = None  # None: embed_dim // encoder_heads (standard split heads)
    encoder_feedforward_dim: int = 256
    context_dropout: float = 0.1
    heightmap_dims: tuple[int, ...] = (64, 64)
    hn_weight_init_std: float = 0.0
    action_std: float = 0.9

    @property
    def resolved_encoder_head_dim(self) -> int:
        if self.encoder_head_dim is not None:
            return self.encoder_head_dim
        return max(1, self.embed_dim // self.encoder_heads)

    @property
    def uses_heightmap(self) -> bool:
        return self.task != "ft"


@dataclass(frozen=True)
class MLPConfig:
    """Multi-robot MLP on the padded (12, 52) proprioceptive observation.

    The 52 proprioceptive values already hold each limb's static body and joint description
    (body position, inertial frame, mass, shape, joint anchors, ranges, axes and gears): that is the
    "limb-wise context features concatenated to the input" of the paper's Appendix C.1, and it is what
    reproduces Table 1. ``use_context=True`` additionally concatenates the 53 context features.
    """

    kind: str = "mlp"
    task: str = "ft"
    hidden_dim: int = 256
    num_hidden_layers: int = 2
    use_context: bool = False
    heightmap_dims: tuple[int, ...] = (64, 64)
    action_std: float = 0.9

    @property
    def uses_heightmap(self) -> bool:
        return self.task != "ft"


@dataclass(frozen=True)
class CriticConfig:
    """Value network: ``arch="deepsets"`` (per-limb MLP, masked mean, MLP) or ``"transformer"``."""

    kind: str = "critic"
    task: str = "ft"
    arch: str = "deepsets"
    hidden_dim: int = 128
    num_layers: int = 2  # deepsets: layers before and after pooling; transformer: attention layers
    num_heads: int = 1
    feedforward_dim: int = 256
    use_context: bool = True
    heightmap_dims: tuple[int, ...] = (64, 64)

    @property
    def uses_heightmap(self) -> bool:
        return self.task != "ft"


ModelConfig = Union[TransformerConfig, HyperDistillConfig, MLPConfig, CriticConfig]
_CONFIG_CLASSES = {
    "transformer": TransformerConfig,
    "hyperdistill": HyperDistillConfig,
    "mlp": MLPConfig,
    "critic": CriticConfig,
}


def config_to_dict(config: ModelConfig) -> dict[str, Any]:
    """Plain dict (tuples as lists) of a configuration, for checkpoints and JSON."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def config_from_dict(data: dict[str, Any]) -> ModelConfig:
    """Rebuild a configuration written by :func:`config_to_dict` (unknown keys are an error)."""
    kind = data.get("kind")
    cls = _CONFIG_CLASSES.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise WorkbenchError(f"unknown model kind {kind!r}")
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(names)
    if unknown:
        raise WorkbenchError(f"unknown {kind} configuration fields: {', '.join(sorted(unknown))}")
    values = {}
    for key, value in data.items():
        default = getattr(cls, key, None) if key in names else None
        if isinstance(value, list) or isinstance(default, tuple):
            value = tuple(value) if value is not None else value
        values[key] = value
    return cls(**values)


def _split(name: str) -> tuple[str, str]:
    scale, _, task = name.partition("-")
    if name not in CONFIG_NAMES:
        raise WorkbenchError(
            f"unknown model configuration {name!r} (expected one of {', '.join(CONFIG_NAMES)})"
        )
    return scale, task


def get_model_config(name: str, method: str) -> ModelConfig:
    """The named configuration of a method, e.g. ``get_model_config("paper-ft", "modumorph")``.

    ``method`` is one of :data:`METHODS` or ``"critic"`` (the cheap value network).
    """
    scale, task = _split(name)
    _check_task(task)
    config = _sized_config(scale, task, method)
    if scale == "workbench" and hasattr(config, "action_std"):
        config = dataclasses.replace(config, action_std=WORKBENCH_ACTION_STD)
    return config


def _sized_config(scale: str, task: str, method: str) -> ModelConfig:
    """The architecture of ``method`` at ``scale`` (paper or workbench) on ``task``."""
    hm_layers = 2 if task == "ft" else 3  # Table 2: base MLP depth
    if method == "critic":
        if scale == "paper":
            return CriticConfig(task=task, arch="deepsets", hidden_dim=256, num_layers=2)
        return CriticConfig(task=task, arch="deepsets", hidden_dim=64, num_layers=2)
    if scale == "paper":
        # Decoder of the transformers: FT linear; VT one hidden layer of 64 after the height-map
        # features are joined; Obstacle two (these reproduce Table 1's VT/Obstacle figures).
        decoder = {"ft": (), "vt": (64,), "obstacle": (64, 64)}[task]
        if method == "modumorph":
            return TransformerConfig(task=task, variant="modumorph", d_model=128, num_layers=5, num_heads=2,
                                     feedforward_dim=1024, decoder_hidden_dims=decoder)
        if method == "metamorph":
            return TransformerConfig(task=task, variant="metamorph", d_model=128, num_layers=5, num_heads=2,
                                     feedforward_dim=1024, dropout=0.1, positional_embedding=True,
                                     decoder_hidden_dims=decoder)
        if method == "modumorph-compressed":
            return TransformerConfig(task=task, variant="modumorph", d_model=128, num_layers=1, num_heads=1,
                                     feedforward_dim=128, decoder_hidden_dims=decoder)
        if method == "tf-compressed":
            layers, ff = (1, 256) if task == "ft" else (2, 128)
            return TransformerConfig(task=task, variant="metamorph", d_model=128, num_layers=layers,
                                     num_heads=1, feedforward_dim=ff, decoder_hidden_dims=decoder)
        if method == "hyperdistill":
            return HyperDistillConfig(task=task, hidden_dim=256, num_hidden_layers=hm_layers, embed_dim=128,
                                      context_encoder="transformer", encoder_heads=2,
                                      encoder_feedforward_dim=256, context_dropout=0.1)
        if method == "mlp":
            return MLPConfig(task=task, hidden_dim=256, num_hidden_layers=hm_layers)
    else:  # workbench: small enough for a 2-core CPU
        decoder = {"ft": (), "vt": (32,), "obstacle": (32,)}[task]
        hm = (32, 32)
        if method == "modumorph":
            return TransformerConfig(task=task, variant="modumorph", d_model=64, num_layers=2, num_heads=2,
                                     head_dim=32, feedforward_dim=128, decoder_hidden_dims=decoder,
                                     heightmap_dims=hm, hn_hidden=64)
        if method == "metamorph":
            return TransformerConfig(task=task, variant="metamorph", d_model=64, num_layers=2, num_heads=2,
                                     head_dim=32, feedforward_dim=128, dropout=0.1, positional_embedding=True,
                                     decoder_hidden_dims=decoder, heightmap_dims=hm)
        if method == "modumorph-compressed":
            return TransformerConfig(task=task, variant="modumorph", d_model=32, num_layers=1, num_heads=1,
                                     feedforward_dim=64, decoder_hidden_dims=decoder, heightmap_dims=hm,
                                     hn_hidden=64)
        if method == "tf-compressed":
            return TransformerConfig(task=task, variant="metamorph", d_model=32, num_layers=1, num_heads=1,
                                     feedforward_dim=64, decoder_hidden_dims=decoder, heightmap_dims=hm)
        if method == "hyperdistill":
            return HyperDistillConfig(task=task, hidden_dim=128, num_hidden_layers=hm_layers, embed_dim=64,
                                      context_encoder="transformer", encoder_heads=2,
                                      encoder_feedforward_dim=128, context_dropout=0.1, heightmap_dims=hm)
        if method == "mlp":
            return MLPConfig(task=task, hidden_dim=128, num_hidden_layers=hm_layers, heightmap_dims=hm)
    raise WorkbenchError(
        f"unknown method {method!r} (expected one of {', '.join(METHODS)} or 'critic')"
    )


__all__ = [
    "TASKS", "METHODS", "CONFIG_NAMES", "TransformerConfig", "HyperDistillConfig", "MLPConfig",
    "CriticConfig", "ModelConfig", "config_to_dict", "config_from_dict", "get_model_config",
]
