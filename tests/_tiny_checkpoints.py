"""Tiny real checkpoints for tests: a ModuMorph teacher and a HyperDistill policy, each trained by the
real PPO trainer for one short iteration on one generated robot, and a random-weight ModuMorph
teacher (with real normalisation statistics) for the dataset and distillation tests.

The hypernetwork output heads start at small random weights instead of zeros (the default), so that
the two policies act visibly and differently from the first step."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

TINY_MODUMORPH = {"d_model": 16, "num_layers": 1, "num_heads": 1, "head_dim": 8, "feedforward_dim": 32,
                  "hn_hidden": 16, "hn_weight_init_std": 0.05}
TINY_HYPERDISTILL = {"hidden_dim": 16, "embed_dim": 16, "encoder_feedforward_dim": 16, "hn_weight_init_std": 0.05}


def train_tiny(run_dir: Path, policy: str, seed: int = 3) -> Path:
    """One PPO iteration (2 envs x 32 steps) of ``policy`` ("modumorph" or "hyperdistill"); returns policy.pt."""
    from workbench.training.config import PPOConfig
    from workbench.training.trainer import PPOTrainer

    overrides = TINY_MODUMORPH if policy == "modumorph" else TINY_HYPERDISTILL
    config = PPOConfig(
        name=f"tiny-{policy}", policy=policy, robots="generated-train", max_robots=1, num_envs=2, num_steps=32,
        minibatch_size=32, epochs=1, total_steps=64, model_overrides=overrides, critic_overrides={"hidden_dim": 16},
        sampler_uniform_iterations=1, rollout_threads=1, learner_threads=1, sim_threads=1,
        checkpoint_interval_s=1e9, seed=seed,
    )
    PPOTrainer(config, run_dir, tensorboard=False).train()
    return run_dir / "policy.pt"


def random_teacher(path: Path, robots: list, seed: int = 0) -> Path:
    """A tiny ModuMorph actor-critic with random weights (from ``seed``) and normalisation statistics from
    real observations."""
    from workbench.envs import EnvConfig, VectorUnimalEnv
    from workbench.models import build_actor_critic, get_model_config, save_checkpoint, to_torch_obs

    torch.manual_seed(seed)
    actor = dataclasses.replace(get_model_config("workbench-ft", "modumorph"), d_model=16, head_dim=8,
                                feedforward_dim=32, hn_hidden=16, num_layers=1, hn_weight_init_std=0.05)
    model = build_actor_critic(actor, get_model_config("workbench-ft", "critic"))
    env = VectorUnimalEnv(robots, 4, config=EnvConfig(max_episode_steps=30))
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(10):
        model.update_normalizer(to_torch_obs(obs))
        obs, *_ = env.step(rng.uniform(-1, 1, (4, 24)).astype(np.float32))
    env.close()
    return save_checkpoint(path, model)
