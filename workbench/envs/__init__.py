"""Locomotion environments for UNIMAL robots: flat terrain (FT), variable terrain (VT)
and obstacles, as a single Gymnasium env and as a fast vectorised multi-robot env.

    make_env(morphology, task="ft" | "vt" | "obstacle", render_mode=None, config=None)
    VectorUnimalEnv(morphologies, num_envs, task="ft", config=None, num_threads=None)
    EnvConfig  (every tunable of an episode, documented field by field)

The observation layout is declared in :mod:`workbench.envs.layout`.
"""

from workbench.envs.config import TASKS, EnvConfig
from workbench.envs.robot import RobotSource, compile_robot, resolve_robot
from workbench.envs.single import UnimalEnv, make_env

__all__ = [
    "TASKS",
    "EnvConfig",
    "RobotSource",
    "UnimalEnv",
    "VectorUnimalEnv",
    "compile_robot",
    "make_env",
    "resolve_robot",
]


def __getattr__(name):
    if name == "VectorUnimalEnv":
        from workbench.envs.vector import VectorUnimalEnv

        return VectorUnimalEnv
    raise AttributeError(name)
