"""An offscreen renderer with a camera that follows the robot's torso.

Tuned for speed on CPU: no shadows, no reflections, no multisampling
(``offsamples = 0``). Height fields are re-uploaded when the terrain changes.
"""

from __future__ import annotations

import mujoco
import numpy as np

from workbench.rendering.gl import configure_gl

configure_gl()

TORSO = "torso/0"


def robot_radius(model: mujoco.MjModel, data: mujoco.MjData) -> float:
    """Distance (m) from the torso to the farthest point of the robot's geoms."""
    torso = model.body(TORSO).id
    radius = 0.2
    for g in range(model.ngeom):
        b = int(model.geom_bodyid[g])
        while b > 0 and b != torso:
            b = int(model.body_parentid[b])
        if b != torso:
            continue
        reach = np.linalg.norm(data.geom_xpos[g] - data.xpos[torso]) + float(model.geom_rbound[g])
        radius = max(radius, reach)
    return float(radius)


class TrackingRenderer:
    """Renders ``(height, width, 3)`` uint8 frames looking at the torso."""

    def __init__(
        self,
        model: mujoco.MjModel,
        width: int = 480,
        height: int = 480,
        azimuth: float = 135.0,
        elevation: float = -20.0,
        distance: float | None = None,
    ) -> None:
        model.vis.global_.offwidth = max(int(model.vis.global_.offwidth), int(width))
        model.vis.global_.offheight = max(int(model.vis.global_.offheight), int(height))
        model.vis.quality.offsamples = 0
        self.model = model
        self.width, self.height = int(width), int(height)
        self._renderer = mujoco.Renderer(model, height=self.height, width=self.width)
        flags = self._renderer.scene.flags
        flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
        flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
        self.camera = mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.camera.azimuth = azimuth
        self.camera.elevation = elevation
        self.distance = distance
        self._torso = model.body(TORSO).id
        self._uploaded_version: int | None = None

    def render(self, data: mujoco.MjData, terrain_version: int | None = None) -> np.ndarray:
        if terrain_version is not None and terrain_version != self._uploaded_version and self.model.nhfield:
            ctx = self._renderer._mjr_context  # noqa: SLF001 - mujoco.Renderer keeps no public handle
            if self._renderer._gl_context is not None:  # noqa: SLF001
                self._renderer._gl_context.make_current()  # noqa: SLF001
            for h in range(self.model.nhfield):
                mujoco.mjr_uploadHField(self.model, ctx, h)
            self._uploaded_version = terrain_version
        if self.distance is None:
            self.distance = max(2.0, 3.0 * robot_radius(self.model, data))
        self.camera.distance = self.distance
        self.camera.lookat[:] = data.xpos[self._torso]
        self._renderer.update_scene(data, camera=self.camera)
        return self._renderer.render()

    def close(self) -> None:
        self._renderer.close()

    def __enter__(self) -> "TrackingRenderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
