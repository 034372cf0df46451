"""The robot the user is looking at, kept in Streamlit's session state.

Pages share one current robot; it is stored as a Morphology together with a
short description of where it came from. Long results (rollouts, comparisons, generated
MLPs) are kept in small per-session caches keyed by robot fingerprint and settings.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from workbench.morphology import Morphology, builtin_robot, builtin_robot_names

_ROBOT_KEY = "current_robot"
_ORIGIN_KEY = "current_robot_origin"


def default_robot_name() -> str:
    """The robot every session starts with."""
    return builtin_robot_names()[0]


def current_robot() -> Morphology:
    """The current robot; the first built-in robot until the user picks another."""
    if _ROBOT_KEY not in st.session_state:
        set_current_robot(builtin_robot(default_robot_name()), "built-in")
    return st.session_state[_ROBOT_KEY]


def current_origin() -> str:
    """Where the current robot came from (built-in, file, upload, generated, mutant)."""
    current_robot()
    return st.session_state[_ORIGIN_KEY]


def set_current_robot(morphology: Morphology, origin: str) -> None:
    """Make ``morphology`` the robot every page works on."""
    st.session_state[_ROBOT_KEY] = morphology
    st.session_state[_ORIGIN_KEY] = origin


def recall(cache: str, key: tuple) -> Any | None:
    """A result remembered under ``key`` in this session's cache named ``cache`` (None if absent)."""
    return st.session_state.get(f"cache:{cache}", {}).get(key)


def remember(cache: str, key: tuple, value: Any, max_entries: int = 8) -> None:
    """Keep ``value`` under ``key``; the oldest entries go once ``max_entries`` are held (videos are large)."""
    entries = st.session_state.setdefault(f"cache:{cache}", {})
    entries.pop(key, None)
    entries[key] = value
    while len(entries) > max_entries:
        entries.pop(next(iter(entries)))
