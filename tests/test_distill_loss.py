"""The distillation loss against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from workbench.distillation import distillation_loss


def test_single_sample_by_hand() -> None:
    student = torch.zeros(1, 24)
    teacher = torch.zeros(1, 24)
    mask = torch.zeros(1, 24)
    student[0, :3] = torch.tensor([1.0, 0.0, -0.5])
    teacher[0, :3] = torch.tensor([0.0, 0.5, 0.5])
    mask[0, :3] = 1.0
    # dims: 0.5 * (1, 0.25, 1) / std^2 with std = 0.5 -> (2, 0.5, 2); mean over 3 real dims = 1.5
    assert distillation_loss(student, teacher, mask, 0.5).item() == pytest.approx(1.5)


def test_padded_slots_do_not_count_and_samples_average() -> None:
    student = torch.zeros(2, 24)
    teacher = torch.zeros(2, 24)
    mask = torch.zeros(2, 24)
    # sample 0: two real dims, errors 1 and 3 -> 0.5 * (1 + 9) / 2 = 2.5 (std 1)
    student[0, 4], student[0, 5] = 1.0, 3.0
    mask[0, 4:6] = 1.0
    # sample 1: one real dim with error 2 -> 0.5 * 4 = 2; a huge error in a padded slot is ignored
    student[1, 0] = 2.0
    mask[1, 0] = 1.0
    student[1, 7] = 100.0
    assert distillation_loss(student, teacher, mask, 1.0).item() == pytest.approx((2.5 + 2.0) / 2)


def test_equals_gaussian_kl_with_equal_std() -> None:
    generator = torch.Generator().manual_seed(0)
    student = torch.randn(5, 24, generator=generator)
    teacher = torch.randn(5, 24, generator=generator)
    mask = (torch.rand(5, 24, generator=generator) > 0.3).float()
    std = 0.9
    p = torch.distributions.Normal(teacher, std)
    q = torch.distributions.Normal(student, std)
    kl = torch.distributions.kl_divergence(p, q)
    expected = ((kl * mask).sum(-1) / mask.sum(-1)).mean()
    assert distillation_loss(student, teacher, mask, std).item() == pytest.approx(expected.item(), rel=1e-6)


def test_gradient_points_to_the_teacher() -> None:
    student = torch.tensor([[0.3] + [0.0] * 23], requires_grad=True)
    teacher = torch.zeros(1, 24)
    mask = torch.zeros(1, 24)
    mask[0, 0] = 1.0
    distillation_loss(student, teacher, mask, 0.9).backward()
    assert student.grad[0, 0].item() == pytest.approx(0.3 / 0.81)
    assert torch.count_nonzero(student.grad[0, 1:]) == 0
    assert math.isfinite(distillation_loss(student, teacher, torch.zeros(1, 24), 0.9).item())
