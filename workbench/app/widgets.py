"""Small pieces shared by the pages: the current-robot banner, checkpoint loading, missing files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from workbench.app.shipped import Shipped
from workbench.app.state import current_origin, current_robot
from workbench.morphology import Morphology, fingerprint

TASKS = {"ft": "flat terrain", "vt": "variable terrain", "obstacle": "obstacles"}


def robot_banner() -> tuple[Morphology, str]:
    """Show which robot the page works on; returns it with its structural fingerprint."""
    robot = current_robot()
    st.caption(f"Robot **{robot.name}** ({current_origin()}, {robot.num_limbs} limbs, {robot.num_joints} motors) "
               "· choose another on the Robots page")
    return robot, fingerprint(robot)


@st.cache_resource(show_spinner="Loading the checkpoint...", max_entries=16)
def _load(path: str, stamp: str) -> Any:
    from workbench.models import load_checkpoint

    return load_checkpoint(path)


def load_checkpoint_cached(path: Path) -> Any:
    """``workbench.models.load_checkpoint``, kept across reruns until the file changes."""
    try:
        stat = Path(path).stat()
        stamp = f"{stat.st_mtime_ns}:{stat.st_size}"
    except OSError:
        stamp = "missing"  # load_checkpoint reports the missing file as one line
    return _load(str(path), stamp)


def show_missing(shipped: Shipped, what: str) -> None:
    """An info box saying which shipped files are absent and what the page cannot show meanwhile."""
    st.info(f"{what} Checkpoints folder: `{shipped.root}` (set WORKBENCH_CHECKPOINTS to use another).")
