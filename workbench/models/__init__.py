"""Policies for universal morphology control: MetaMorph / ModuMorph transformers, the HyperDistill
hypernetwork, the multi-robot MLP, the actor-critic wrapper, configurations and checkpoints.

All policies take RAW batched observation dicts (torch tensors; see :func:`to_torch_obs`), normalise
them internally (running statistics, updated only by ``update_normalizer``) and return the Gaussian
action mean (B, 24); the action standard deviation is fixed (``.action_std``).
"""

from workbench.models.actor_critic import ActorCritic
from workbench.models.checkpoint import (FORMAT_VERSION, Checkpoint, load_checkpoint, load_policy,
                                         observation_layout, save_checkpoint)
from workbench.models.config import (CONFIG_NAMES, METHODS, TASKS, CriticConfig, HyperDistillConfig,
                                     MLPConfig, TransformerConfig, config_from_dict, config_to_dict,
                                     get_model_config)
from workbench.models.hyperdistill import HyperDistillPolicy
from workbench.models.layers import to_torch_obs
from workbench.models.mlp import MultiRobotMLP, ValueNetwork
from workbench.models.registry import build_actor_critic, build_policy
from workbench.models.transformer import TransformerPolicy

__all__ = [
    "ActorCritic", "Checkpoint", "CONFIG_NAMES", "CriticConfig", "FORMAT_VERSION", "HyperDistillConfig",
    "HyperDistillPolicy", "METHODS", "MLPConfig", "MultiRobotMLP", "TASKS", "TransformerConfig",
    "TransformerPolicy", "ValueNetwork", "build_actor_critic", "build_policy", "config_from_dict",
    "config_to_dict", "get_model_config", "load_checkpoint", "load_policy", "observation_layout",
    "save_checkpoint", "to_torch_obs",
]
