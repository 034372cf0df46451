"""HyperDistill Workbench: universal morphology control with distilled hypernetworks."""

__version__ = "0.1.0"

# Headless rendering: choose MuJoCo's GL backend before anything imports mujoco.
from workbench.rendering.gl import configure_gl as _configure_gl  # noqa: E402

_configure_gl()
