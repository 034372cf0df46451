"""PPO loss terms, log-probabilities and schedule against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from workbench.training.normalization import ReturnScaler, RunningMeanStd
from workbench.training.ppo import explained_variance, gaussian_log_prob, normalize_advantages, ppo_loss
from workbench.training.sampler import RobotSampler
from workbench.training.schedule import cosine_with_warmup


def _inputs(value_clip=0.2) -> dict:
    """Three samples with ratios 1.5, 0.5, 1.1 to the old (proximal) policy."""
    ratios = torch.tensor([1.5, 0.5, 1.1], dtype=torch.float64)
    old = torch.tensor([-1.0, -2.0, -3.0], dtype=torch.float64)
    return dict(
        new_log_prob=old + torch.log(ratios),
        old_log_prob=old,
        advantages=torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64),
        new_values=torch.tensor([1.0, 1.1, 1.0], dtype=torch.float64),
        old_values=torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64),
        returns=torch.tensor([2.0, 0.0, 2.0], dtype=torch.float64),
        clip_coef=0.2,
        value_clip_coef=value_clip,
        value_coef=0.5,
    )


def _loss(value_clip=0.2):
    return ppo_loss(**_inputs(value_clip))


def test_policy_loss_hand_computed():
    terms = _loss()
    # sample 0: A=1,  r=1.5: max(-1.5, -1.2) = -1.2
    # sample 1: A=-2, r=0.5: max(1.0, 1.6) = 1.6
    # sample 2: A=3,  r=1.1: max(-3.3, -3.3) = -3.3
    assert terms.policy.item() == pytest.approx((-1.2 + 1.6 - 3.3) / 3)
    # approx KL = mean((r - 1) - log r)
    kl = ((0.5 - math.log(1.5)) + (-0.5 - math.log(0.5)) + (0.1 - math.log(1.1))) / 3
    assert terms.approx_kl.item() == pytest.approx(kl)
    assert terms.clip_fraction.item() == pytest.approx(2 / 3)


def test_decoupled_policy_loss_weights_by_the_behaviour_policy_hand_computed():
    common = _inputs()
    common["new_log_prob"].requires_grad_()
    proximal = common["old_log_prob"]
    behaviour_ratio = torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)  # pi_prox / pi_behaviour
    terms = ppo_loss(**common, behaviour_log_prob=proximal - torch.log(behaviour_ratio))
    # clipped terms as in the plain case (-1.2, 1.6, -3.3), weighted 2, 1, 0.5
    assert terms.policy.item() == pytest.approx((2 * -1.2 + 1.6 + 0.5 * -3.3) / 3)
    # clipping and the KL estimate are measured against the proximal policy, not the behaviour one
    assert terms.clip_fraction.item() == pytest.approx(2 / 3)
    assert terms.approx_kl.item() == pytest.approx(_loss().approx_kl.item())
    # a behaviour policy equal to the proximal one is ordinary PPO
    same = ppo_loss(**common, behaviour_log_prob=proximal)
    assert same.policy.item() == pytest.approx(_loss().policy.item())
    # the gradient is the plain one scaled by w (sample 2 unclipped: d/d new_log_prob = w * -A r / 3)
    terms.policy.backward()
    grad = common["new_log_prob"].grad
    assert grad[2].item() == pytest.approx(0.5 * -3.0 * 1.1 / 3)
    assert grad[0].item() == 0.0  # clipped


def test_value_loss_clipped_and_unclipped_hand_computed():
    terms = _loss()
    # clipped predictions: 0.2, 1.1, 1.8 -> errors 3.24, 1.21, 0.04; unclipped errors 1, 1.21, 1
    assert terms.value.item() == pytest.approx(0.5 * (3.24 + 1.21 + 1.0) / 3)
    assert terms.total.item() == pytest.approx(terms.policy.item() + 0.5 * terms.value.item())
    assert _loss(value_clip=None).value.item() == pytest.approx(0.5 * (1.0 + 1.21 + 1.0) / 3)


def test_masked_gaussian_log_prob_hand_computed():
    mean = torch.zeros(1, 3)
    actions = torch.tensor([[0.5, 1.0, 3.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    # std 0.5: dim 0 z=1, dim 1 z=2, dim 2 masked
    expected = (-0.5 * 1 - math.log(0.5) - 0.5 * math.log(2 * math.pi)) + (
        -0.5 * 4 - math.log(0.5) - 0.5 * math.log(2 * math.pi)
    )
    assert gaussian_log_prob(mean, 0.5, actions, mask).item() == pytest.approx(expected, rel=1e-6)
    full = torch.distributions.Normal(mean, 0.5).log_prob(actions)[:, :2].sum()
    assert gaussian_log_prob(mean, 0.5, actions, mask).item() == pytest.approx(full.item(), rel=1e-6)


def test_advantage_normalisation_and_explained_variance():
    adv = normalize_advantages(torch.tensor([1.0, 2.0, 3.0]))
    assert adv.mean().item() == pytest.approx(0.0, abs=1e-7)
    assert adv.std(unbiased=False).item() == pytest.approx(1.0, rel=1e-6)
    target = torch.tensor([1.0, 2.0, 3.0])
    assert explained_variance(target, target) == pytest.approx(1.0)
    assert explained_variance(torch.zeros(3), target) == pytest.approx(0.0)


def test_cosine_with_warmup_schedule():
    lrs = [cosine_with_warmup(i, 10, 1.0, warmup_fraction=0.2) for i in range(10)]
    assert lrs[0] == pytest.approx(0.5) and lrs[1] == pytest.approx(1.0)  # 2 warm-up iterations
    assert lrs[2] == pytest.approx(1.0)  # cosine starts at the peak
    assert lrs[2 + 4] == pytest.approx(0.5)  # half-way through the 8 cosine iterations
    assert all(a >= b for a, b in zip(lrs[2:], lrs[3:]))
    assert cosine_with_warmup(10, 10, 1.0, 0.2, final_fraction=0.1) == pytest.approx(0.1)
    assert cosine_with_warmup(0, 1, 1e-3) == pytest.approx(1e-3)


def test_running_mean_std_matches_numpy():
    data = np.random.default_rng(0).normal(3.0, 2.0, size=(1000,))
    rms = RunningMeanStd(epsilon=0.0 + 1e-12)
    for chunk in np.split(data, 10):
        rms.update(chunk)
    assert rms.mean == pytest.approx(data.mean())
    assert rms.var == pytest.approx(data.var())


def test_return_scaler_resets_on_done_and_scales():
    scaler = ReturnScaler(num_envs=2, gamma=0.5, clip=10.0)
    scaled = scaler(np.array([2.0, 2.0]), np.array([True, False]))
    assert scaler.returns.tolist() == [0.0, 2.0]
    assert scaled.shape == (2,) and np.all(scaled > 0)
    scaler(np.array([1.0, 1.0]), np.array([False, False]))
    assert scaler.returns.tolist() == [1.0, 2.0]


def test_return_scaler_state_survives_a_checkpoint_round_trip_with_its_shape():
    from workbench.training.checkpoint import from_storable, to_storable

    fresh = ReturnScaler(num_envs=2, gamma=0.9)  # 0-d statistics before any update
    stored = from_storable(to_storable(fresh.state_dict()))
    assert np.shape(stored["rms"]["var"]) == ()
    # A checkpoint of the old writer held the scalar statistics as shape (1,): still loads as a scalar.
    old = {"returns": np.zeros(2), "rms": {"mean": np.array([1.5]), "var": np.array([4.0]), "count": 10.0}}
    scaler = ReturnScaler(num_envs=2, gamma=0.9)
    scaler.load_state_dict(old)
    scaler(np.array([1.0, 2.0]), np.array([False, False]))
    assert np.shape(scaler.rms.var) == () and isinstance(scaler.std, float)


def test_robot_sampler_uniform_start_then_inverse_length():
    sampler = RobotSampler(2, mode="balanced", uniform_iterations=1, ema=1.0)
    sampler.record(np.array([0, 1]), np.array([100.0, 400.0]))
    assert sampler.probabilities(0).tolist() == [0.5, 0.5]
    np.testing.assert_allclose(sampler.probabilities(1), [0.8, 0.2])  # 1000/100 : 1000/400 = 10 : 2.5
    assert RobotSampler(3, mode="fixed").probabilities(5) is None
