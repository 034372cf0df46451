"""The distillation loss: KL between the teacher's and the student's Gaussian policies."""

from __future__ import annotations

import torch


def distillation_loss(student_mean: torch.Tensor, teacher_mean: torch.Tensor, action_mask: torch.Tensor,
                      action_std: float) -> torch.Tensor:
    """KL(teacher || student) for Gaussians sharing one fixed standard deviation, averaged per sample
    over its real action slots, then over the batch.

    With equal std ``s`` the KL of one action dimension is ``(mu_s - mu_t)^2 / (2 s^2)``; padded slots
    (``action_mask == 0``) do not count, and a sample's loss is the mean over its real slots so that
    robots with few motors weigh as much as robots with many.

    Args:
        student_mean: (B, 24) the student's action means.
        teacher_mean: (B, 24) the teacher's action means (the dataset's targets).
        action_mask: (B, 24) 1.0 where the action slot drives a real motor, else 0.0.
        action_std: the common fixed standard deviation ``s`` (> 0).

    Returns:
        A scalar tensor (differentiable w.r.t. ``student_mean``).
    """
    mask = (action_mask > 0).to(student_mean.dtype)
    per_dim = 0.5 * (student_mean - teacher_mean) ** 2 / (action_std**2)
    per_sample = (per_dim * mask).sum(-1) / mask.sum(-1).clamp_min(1.0)
    return per_sample.mean()
