"""Build models from configurations."""

from __future__ import annotations

from torch import nn

from workbench.models.actor_critic import ActorCritic
from workbench.models.config import (CriticConfig, HyperDistillConfig, MLPConfig, ModelConfig,
                                     TransformerConfig, get_model_config)


def build_policy(config: ModelConfig) -> nn.Module:
    """The policy (or value network, for a :class:`CriticConfig`) described by ``config``."""
    if isinstance(config, TransformerConfig):
        from workbench.models.transformer import TransformerPolicy

        return TransformerPolicy(config)
    if isinstance(config, HyperDistillConfig):
        from workbench.models.hyperdistill import HyperDistillPolicy

        return HyperDistillPolicy(config)
    if isinstance(config, MLPConfig):
        from workbench.models.mlp import MultiRobotMLP

        return MultiRobotMLP(config)
    if isinstance(config, CriticConfig):
        from workbench.models.mlp import ValueNetwork

        return ValueNetwork(config)
    raise TypeError(f"not a model configuration: {config!r}")


def build_actor_critic(actor_config: ModelConfig, critic_config: CriticConfig | None = None) -> ActorCritic:
    """Actor + separate critic. Without a critic configuration the critic is the small default
    (``deepsets``, 64 wide) for the actor's task."""
    if critic_config is None:
        critic_config = get_model_config(f"workbench-{actor_config.task}", "critic")
    if critic_config.task != actor_config.task:
        raise ValueError(f"actor task {actor_config.task!r} != critic task {critic_config.task!r}")
    return ActorCritic(build_policy(actor_config), build_policy(critic_config))
