"""Learning-rate schedule: linear warm-up, then cosine decay, evaluated per iteration."""

from __future__ import annotations

import math


def cosine_with_warmup(
    iteration: int,
    num_iterations: int,
    peak_lr: float,
    warmup_fraction: float = 0.0,
    final_fraction: float = 0.0,
) -> float:
    """Learning rate of ``iteration`` (0-based) in a run of ``num_iterations`` iterations.

    Warm-up: the first ``w = ceil(warmup_fraction * num_iterations)`` iterations rise linearly,
    ``peak_lr * (iteration + 1) / w``. Then a half cosine from ``peak_lr`` (at iteration w)
    towards ``peak_lr * final_fraction`` (reached at iteration num_iterations, one past the end).
    Iterations past the end keep the final learning rate.
    """
    if num_iterations < 1:
        raise ValueError("num_iterations must be >= 1")
    warmup = math.ceil(warmup_fraction * num_iterations) if warmup_fraction > 0 else 0
    warmup = min(warmup, num_iterations - 1)
    if iteration < warmup:
        return peak_lr * (iteration + 1) / warmup
    final_lr = peak_lr * final_fraction
    progress = min(1.0, (iteration - warmup) / max(1, num_iterations - warmup))
    return final_lr + (peak_lr - final_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
