"""Rendering: tracking-camera frames of episodes, MP4 videos, still robot images.

    render_frames(morphology, task="ft", steps=..., policy_fn=None, seed=0, width=..., height=...)
    write_video(frames, path, fps=50)
    render_robot_image(morphology, azimuth=..., elevation=..., width=..., height=...)
    bind_policy(policy, morphology, task) -> RenderPolicy   (checkpoint, .npz MLP, "random", ...)
    policy_frames(morphology, render_policy, ...)          (running return written on the frames)
    side_by_side_frames(morphology, [policy, policy], ...) (policies next to each other)

Headless on CPU (EGL, else OSMesa; see :mod:`workbench.rendering.gl`). The heavy
submodules load on first use, so that importing the package stays cheap.
"""

from importlib import import_module

from workbench.rendering.gl import configure_gl

configure_gl()

_EXPORTS = {
    "RenderPolicy": "workbench.rendering.policy_video",
    "ReturnTracker": "workbench.rendering.policy_video",
    "TrackingRenderer": "workbench.rendering.camera",
    "bind_policy": "workbench.rendering.policy_video",
    "hstack_frames": "workbench.rendering.overlay",
    "overlay_text": "workbench.rendering.overlay",
    "policy_frames": "workbench.rendering.policy_video",
    "render_robot_image": "workbench.rendering.still",
    "random_policy": "workbench.rendering.video",
    "render_frames": "workbench.rendering.video",
    "save_video": "workbench.rendering.policy_video",
    "side_by_side_frames": "workbench.rendering.policy_video",
    "write_video": "workbench.rendering.video",
}

__all__ = ["configure_gl", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'workbench.rendering' has no attribute {name!r}")
