"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_UNIMAL = REPO_ROOT.parent / "shared" / "unimal"


@pytest.fixture(scope="session")
def unimal_dir() -> Path:
    """The published UNIMAL robots beside the checkout (read-only, never committed)."""
    if not SHARED_UNIMAL.is_dir():
        pytest.skip("../shared/unimal is not present")
    return SHARED_UNIMAL


# The app's tiny real checkpoints (session-scoped, shared by the AppTest and browser tests).
from _app_fixtures import empty_checkpoints, tiny_checkpoints  # noqa: E402, F401
