"""The pure pieces of PPO: GAE, the masked Gaussian log-probability and the loss terms.

No state, no environment, no model: tensors in, tensors out, so each piece is
tested against hand-computed numbers (tests/test_gae.py, tests/test_ppo_loss.py).
Shapes: T rollout steps, N environments, B samples of a minibatch, A = 24 padded
action slots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    terminated: torch.Tensor,
    dones: torch.Tensor,
    gamma: float,
    gae_lambda: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over a rollout with same-step auto-reset.

    Args:
        rewards: (T, N) reward of step t.
        values: (T, N) V(s_t), the value of the observation the action was taken in.
        next_values: (T, N) V(s_{t+1}) of the true next state of step t: the next
            rollout observation while the episode goes on, V(info["final_obs"]) where
            it was truncated, and the bootstrap V(obs after the last step) at t = T-1.
            Ignored where ``terminated``.
        terminated: (T, N) bool, the episode ended at step t in a terminal state
            (no bootstrap: the future is worth 0).
        dones: (T, N) bool, the episode ended at step t (terminated or truncated):
            the advantage recursion does not cross it.
        gamma: discount; gae_lambda: GAE lambda.

    Returns:
        advantages (T, N) and returns = advantages + values (T, N), the value targets.

    delta_t = r_t + gamma * (1 - terminated_t) * next_value_t - V(s_t)
    A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}
    """
    if not (rewards.shape == values.shape == next_values.shape == terminated.shape == dones.shape):
        raise ValueError("compute_gae: all inputs must have the same (T, N) shape")
    not_terminated = 1.0 - terminated.to(values.dtype)
    not_done = 1.0 - dones.to(values.dtype)
    deltas = rewards + gamma * not_terminated * next_values - values
    advantages = torch.zeros_like(values)
    running = torch.zeros_like(values[0])
    for t in range(values.shape[0] - 1, -1, -1):
        running = deltas[t] + gamma * gae_lambda * not_done[t] * running
        advantages[t] = running
    return advantages, advantages + values


def gaussian_log_prob(
    mean: torch.Tensor, std: torch.Tensor | float, actions: torch.Tensor, action_mask: torch.Tensor
) -> torch.Tensor:
    """Log-density of ``actions`` under N(mean, std^2), summed over the real action slots only.

    Args:
        mean: (B, A) Gaussian means; std: scalar or (A,) / (B, A) standard deviations.
        actions: (B, A) sampled (unclipped) actions; action_mask: (B, A), 1 for real motors.

    Returns:
        (B,) log-probabilities.
    """
    std = torch.as_tensor(std, dtype=mean.dtype, device=mean.device)
    per_dim = -0.5 * ((actions - mean) / std) ** 2 - torch.log(std) - LOG_SQRT_2PI
    return (per_dim * action_mask).sum(dim=-1)


def normalize_advantages(advantages: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """(B,) -> (B,) zero mean, unit (population) std over the minibatch."""
    if advantages.numel() < 2:
        return advantages - advantages.mean()
    return (advantages - advantages.mean()) / (advantages.std(unbiased=False) + eps)


@dataclass
class PPOLossTerms:
    """The loss of one minibatch and its diagnostics (all 0-dim tensors)."""

    total: torch.Tensor
    policy: torch.Tensor
    value: torch.Tensor
    approx_kl: torch.Tensor
    clip_fraction: torch.Tensor


def ppo_loss(
    new_log_prob: torch.Tensor,
    old_log_prob: torch.Tensor,
    advantages: torch.Tensor,
    new_values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    clip_coef: float,
    value_clip_coef: float | None,
    value_coef: float,
    behaviour_log_prob: torch.Tensor | None = None,
) -> PPOLossTerms:
    """Clipped-surrogate policy loss plus (clipped) value loss; every input is (B,).

    policy = mean(w * max(-A * r, -A * clip(r, 1 - eps, 1 + eps))),  r = exp(new_log_prob - old_log_prob)
    value  = 0.5 * mean(max((v - R)^2, (v_old + clip(v - v_old, -c, c) - R)^2))   (no clip: 0.5 * mean((v - R)^2))
    total  = policy + value_coef * value
    approx_kl = mean((r - 1) - log r)   (Schulman's low-variance estimator of KL(old || new))
    clip_fraction = mean(|r - 1| > eps)

    ``w`` is 1 in ordinary PPO, where ``old_log_prob`` is the policy that acted. When the data
    were collected by an older policy (``behaviour_log_prob``, e.g. one update behind when the
    rollout overlaps the update), ``old_log_prob`` is the proximal policy the step is clipped
    around (the weights at the start of this update) and w = exp(old_log_prob -
    behaviour_log_prob) corrects for the behaviour policy: decoupled PPO (Hilton et al., 2022,
    "Batch size-invariance for policy optimization"). ``w`` carries no gradient.
    """
    log_ratio = new_log_prob - old_log_prob
    ratio = torch.exp(log_ratio)
    surrogate = -advantages * ratio
    surrogate_clipped = -advantages * torch.clamp(ratio, 1.0 - clip_coef, 1.0 + clip_coef)
    per_sample = torch.max(surrogate, surrogate_clipped)
    if behaviour_log_prob is not None:
        per_sample = per_sample * torch.exp(old_log_prob - behaviour_log_prob).detach()
    policy_loss = per_sample.mean()

    value_error = (new_values - returns) ** 2
    if value_clip_coef is not None:
        clipped_values = old_values + torch.clamp(new_values - old_values, -value_clip_coef, value_clip_coef)
        value_error = torch.max(value_error, (clipped_values - returns) ** 2)
    value_loss = 0.5 * value_error.mean()

    with torch.no_grad():
        approx_kl = ((ratio - 1.0) - log_ratio).mean()
        clip_fraction = ((ratio - 1.0).abs() > clip_coef).to(ratio.dtype).mean()
    return PPOLossTerms(
        total=policy_loss + value_coef * value_loss,
        policy=policy_loss,
        value=value_loss,
        approx_kl=approx_kl,
        clip_fraction=clip_fraction,
    )


def explained_variance(predicted: torch.Tensor, target: torch.Tensor) -> float:
    """1 - Var(target - predicted) / Var(target); NaN when the target is constant."""
    var_target = torch.var(target, unbiased=False)
    if float(var_target) == 0.0:
        return float("nan")
    return float(1.0 - torch.var(target - predicted, unbiased=False) / var_target)
