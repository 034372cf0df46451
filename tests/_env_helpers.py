"""Shared helpers of the env / render tests (not a test module)."""

from __future__ import annotations

import numpy as np


def builtin_robots(n: int = 3) -> list:
    from workbench.morphology import builtin_robot_names, load_robot

    return [load_robot(name) for name in builtin_robot_names()[:n]]


def assert_obs_equal(a: dict, b: dict, where: str = "") -> None:
    assert set(a) == set(b), where
    for key in a:
        assert np.array_equal(a[key], b[key]), f"{where}: {key} differs by {np.abs(a[key] - b[key]).max()}"


def row(obs: dict, i: int) -> dict:
    return {key: value[i] for key, value in obs.items()}
