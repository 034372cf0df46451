"""Physics safety: MuJoCo warnings never reach the terminal or a log file, and
blow-ups are detected so that the environment ends the episode and flags it.

MuJoCo's default warning handler prints and appends to ``MUJOCO_LOG.TXT`` in the
working directory. We install a C-level no-op handler instead (a C function, so
that it is safe on MuJoCo's own worker threads, which hold no Python lock) and
read the per-simulation warning counters (``data.warning``) after every step:
any increase — bad qpos/qvel/qacc (after which MuJoCo silently resets the
simulation), a full contact or constraint buffer — marks the step unstable.
"""

from __future__ import annotations

import ctypes
import threading

import mujoco
import numpy as np

_installed = False
_lock = threading.Lock()


def install_quiet_warning_handler() -> None:
    """Route MuJoCo warnings to a no-op (idempotent; process-wide)."""
    global _installed
    with _lock:
        if _installed:
            return
        # strlen(const char*) has the handler's signature and no side effect.
        mujoco.set_mju_user_warning(ctypes.CDLL(None).strlen)
        _installed = True


def warning_total(warning_numbers: np.ndarray) -> np.ndarray:
    """Sum of warning counters per simulation from (n, nwarning) counts."""
    return warning_numbers.sum(axis=-1)


def unstable_mask(qvel: np.ndarray, qacc: np.ndarray, max_qvel: float, max_qacc: float) -> np.ndarray:
    """(n,) True where velocities or accelerations are non-finite or beyond the limits."""
    ok_v = np.abs(qvel).max(axis=1) <= max_qvel  # NaN compares False
    ok_a = np.abs(qacc).max(axis=1) <= max_qacc
    return ~(ok_v & ok_a)
