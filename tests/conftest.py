"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")


def _cpu_has_avx2() -> bool:
    try:
        return " avx2 " in Path("/proc/cpuinfo").read_text().replace("\n", " ")
    except OSError:
        return False


# The shipped evaluations of the deployed HN students (numpy MLPs) were made with OpenBLAS's AVX2
# ("Haswell") kernels. Where OpenBLAS picks its AVX-512 kernels instead, matrix products round
# differently and episodes that end in a fall diverge, so tests that re-run a shipped evaluation would
# compare other (equally valid) episodes. Set before numpy loads OpenBLAS; subprocesses inherit it.
if _cpu_has_avx2():
    os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")

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
