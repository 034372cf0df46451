"""Still images of a robot at rest (the app shows a robot from two angles)."""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from workbench.rendering.camera import TrackingRenderer


def render_robot_image(
    morphology: Any,
    azimuth: float = 135.0,
    elevation: float = -20.0,
    width: int = 480,
    height: int = 480,
    distance: float | None = None,
) -> np.ndarray:
    """(height, width, 3) uint8 image of ``morphology`` standing on the floor at its
    initial pose, seen from ``azimuth`` / ``elevation`` (degrees)."""
    from workbench.envs.config import EnvConfig
    from workbench.envs.robot import compile_robot

    robot = compile_robot(morphology, "ft", EnvConfig())
    data = mujoco.MjData(robot.model)
    mujoco.mj_forward(robot.model, data)
    with TrackingRenderer(robot.model, width, height, azimuth=azimuth, elevation=elevation, distance=distance) as renderer:
        return renderer.render(data)
