"""Tiny real checkpoints for the video tests: a ModuMorph teacher and a HyperDistill policy, each
trained by the real PPO trainer for one short iteration on one generated robot.

The hypernetwork output heads start at small random weights instead of zeros (the default), so that
the two policies act visibly and differently from the first step."""

from __future__ import annotations

from pathlib import Path

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
