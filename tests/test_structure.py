"""The packages depend on each other one way, and the light ones load without torch.

Order, lowest first: a package may import those before it, never one after it. ``deploy`` (numpy only)
sits low so that models and analysis may hand their MLPs to it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "workbench"
ORDER = ("errors", "files", "metrics_csv", "deploy", "morphology", "envs", "models", "training",
         "distillation", "analysis", "rendering", "small_policies", "cli", "app")
# Imports inside functions that still point up, each a cycle that the split of issue #21 removes.
# An entry that no longer exists fails the test, so the list only shrinks.
KNOWN_UPWARD = {
    ("workbench/envs/single.py", "rendering"),          # render_mode="rgb_array" builds the tracking camera
    ("workbench/distillation/trainer.py", "analysis"),  # the periodic evaluation during distillation
}


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported workbench package, at module top level) for every absolute workbench import."""
    tree = ast.parse(path.read_text())
    top = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("workbench."):
            found.append((node.module.split(".")[1], id(node) in top))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("workbench."):
                    found.append((alias.name.split(".")[1], id(node) in top))
    return found


def _package(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def test_every_package_has_a_place_in_the_order() -> None:
    names = {_package(p) for p in PACKAGE.glob("*") if p.suffix == ".py" or (p / "__init__.py").is_file()}
    assert names - {"__init__", "__main__"} == set(ORDER)


def test_imports_point_down_the_packages() -> None:
    upward, top_level_upward = set(), []
    for path in sorted(PACKAGE.rglob("*.py")):
        package = _package(path)
        if package not in ORDER:
            continue
        for target, at_top in _imports(path):
            if target in ORDER and ORDER.index(target) > ORDER.index(package):
                where = str(path.relative_to(REPO_ROOT))
                (top_level_upward.append((where, target)) if at_top else upward.add((where, target)))
    assert not top_level_upward, top_level_upward
    assert upward == KNOWN_UPWARD, f"new upward imports: {upward - KNOWN_UPWARD}; gone: {KNOWN_UPWARD - upward}"


@pytest.mark.parametrize("package", ("workbench.deploy", "workbench.morphology"))
def test_light_packages_load_without_torch(package: str) -> None:
    code = f"import sys, {package}; assert 'torch' not in sys.modules, 'torch was imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr


def test_every_package_imports_in_a_fresh_interpreter() -> None:
    """No import cycle: each package loads first, on its own."""
    for package in ORDER:
        if package in ("app",):  # streamlit pages, run by the app tests
            continue
        done = subprocess.run([sys.executable, "-c", f"import workbench.{package}"], capture_output=True,
                              text=True, cwd=REPO_ROOT)
        assert done.returncode == 0, (package, done.stderr[-2000:])
