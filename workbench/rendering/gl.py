"""Headless OpenGL selection for MuJoCo rendering.

MuJoCo reads ``MUJOCO_GL`` once, when ``mujoco`` is first imported. The workbench
renders headless on CPU: EGL when its library is present, else OSMesa. A value the
user set is kept. :func:`configure_gl` is called by ``workbench/__init__.py`` so
that it runs before anything imports ``mujoco``.
"""

from __future__ import annotations

import ctypes.util
import os


def default_backend() -> str:
    """``"egl"`` when libEGL can be found, else ``"osmesa"``."""
    if ctypes.util.find_library("EGL"):
        return "egl"
    if ctypes.util.find_library("OSMesa"):
        return "osmesa"
    return "egl"


def configure_gl() -> str:
    """Set ``MUJOCO_GL`` (and ``PYOPENGL_PLATFORM``) unless the user chose; return the backend."""
    backend = os.environ.get("MUJOCO_GL")
    if not backend:
        backend = default_backend()
        os.environ["MUJOCO_GL"] = backend
    if backend in ("egl", "osmesa"):
        os.environ.setdefault("PYOPENGL_PLATFORM", backend)
    return backend
