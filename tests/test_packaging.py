"""The set-up files agree with each other: one pinned dependency set everywhere."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO_ROOT


def _pins(text: str) -> dict[str, str]:
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r"^\s*(?:-\s+)?([A-Za-z0-9_.-]+)==([^\s#]+)", text, re.M)}


def test_environment_yml_pins_match_requirements() -> None:
    requirements = _pins((REPO_ROOT / "requirements.txt").read_text())
    conda = _pins((REPO_ROOT / "environment.yml").read_text())
    conda.pop("python", None)
    assert requirements, "requirements.txt pins nothing"
    assert conda == requirements


def test_cli_help_lists_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "--help"], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    from workbench.cli import COMMAND_MODULES

    for module in COMMAND_MODULES:
        assert module.replace("_", "-") in result.stdout


def test_every_command_has_help() -> None:
    from workbench.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name, sub in subparsers.choices.items():
        assert sub.format_help().strip(), name
