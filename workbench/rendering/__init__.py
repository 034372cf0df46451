"""Rendering: tracking-camera frames of episodes, MP4 videos, still robot images.

    render_frames(morphology, task="ft", steps=..., policy_fn=None, seed=0, width=..., height=...)
    write_video(frames, path, fps=50)
    render_robot_image(morphology, azimuth=..., elevation=..., width=..., height=...)

Headless on CPU (EGL, else OSMesa; see :mod:`workbench.rendering.gl`).
"""

from workbench.rendering.gl import configure_gl

configure_gl()

from workbench.rendering.camera import TrackingRenderer  # noqa: E402
from workbench.rendering.still import render_robot_image  # noqa: E402
from workbench.rendering.video import random_policy, render_frames, write_video  # noqa: E402

__all__ = ["TrackingRenderer", "configure_gl", "random_policy", "render_frames", "render_robot_image", "write_video"]
