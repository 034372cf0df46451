"""GAE against a case computed by hand (termination, truncation and bootstrap)."""

from __future__ import annotations

import pytest
import torch

from workbench.training.ppo import compute_gae


def test_gae_hand_computed_termination_and_truncation():
    # gamma = 0.5, lambda = 0.5 (gamma * lambda = 0.25). Two envs, four steps.
    # env 0: t=1 terminates (no bootstrap), t=3 is truncated (bootstrap with V(final_obs) = 4).
    # env 1: never done; the last step bootstraps with V(next obs) = 2.
    rewards = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 1.0]])
    values = torch.tensor([[0.5, 0.0], [1.0, 0.0], [1.5, 0.0], [2.0, 0.0]])
    next_values = torch.tensor([[1.0, 0.0], [7.0, 0.0], [2.0, 0.0], [4.0, 2.0]])  # 7.0 must be ignored
    terminated = torch.tensor([[False, False], [True, False], [False, False], [False, False]])
    dones = torch.tensor([[False, False], [True, False], [False, False], [True, False]])
    advantages, returns = compute_gae(rewards, values, next_values, terminated, dones, 0.5, 0.5)
    # env 0 deltas: 1 + .5*1 - .5 = 1;  2 - 1 = 1;  3 + .5*2 - 1.5 = 2.5;  4 + .5*4 - 2 = 4
    #   A3 = 4;  A2 = 2.5 + .25*4 = 3.5;  A1 = 1 (episode ended);  A0 = 1 + .25*1 = 1.25
    # env 1 deltas: 0, 0, 0, 1 + .5*2 = 2  ->  A = .03125, .125, .5, 2
    expected = torch.tensor([[1.25, 0.03125], [1.0, 0.125], [3.5, 0.5], [4.0, 2.0]])
    torch.testing.assert_close(advantages, expected)
    torch.testing.assert_close(returns, expected + values)


def test_gae_truncation_differs_from_termination():
    rewards = torch.tensor([[1.0]])
    values = torch.tensor([[0.0]])
    next_values = torch.tensor([[10.0]])
    done = torch.tensor([[True]])
    truncated_adv, _ = compute_gae(rewards, values, next_values, torch.tensor([[False]]), done, 0.9, 0.95)
    terminated_adv, _ = compute_gae(rewards, values, next_values, torch.tensor([[True]]), done, 0.9, 0.95)
    assert truncated_adv.item() == pytest.approx(1.0 + 0.9 * 10.0)
    assert terminated_adv.item() == pytest.approx(1.0)


def test_gae_lambda_one_is_discounted_return_minus_value():
    rewards = torch.tensor([[1.0], [1.0], [1.0]])
    values = torch.tensor([[0.3], [0.2], [0.1]])
    next_values = torch.tensor([[0.2], [0.1], [0.0]])
    no = torch.zeros(3, 1, dtype=torch.bool)
    advantages, returns = compute_gae(rewards, values, next_values, no, no, 0.9, 1.0)
    torch.testing.assert_close(returns[:, 0], torch.tensor([1 + 0.9 + 0.81, 1 + 0.9, 1.0]))


def test_gae_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        compute_gae(torch.zeros(2, 1), torch.zeros(2, 1), torch.zeros(2, 2), torch.zeros(2, 1), torch.zeros(2, 1), 0.9, 0.9)
