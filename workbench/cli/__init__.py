"""Command-line interface: ``python -m workbench <command>`` (also ``workbench``).

Each command lives in its own module of this package and exposes
``register(subparsers)``, which adds a sub-parser whose ``func`` default takes
the parsed ``argparse.Namespace`` and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from workbench import __version__
from workbench.errors import WorkbenchError

# Modules (in workbench.cli) that define commands, in the order --help lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "morph",
    "render",
    "gallery",
    "flops",
    "export_mlp",
    "train_teacher",
    "train_specialists",
    "warm_start",
    "evaluate",
    "collect",
    "distill",
    "dagger",
    "average_weights",
    "results",
    "curves",
    "transfer_curve",
    "ghp",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="HyperDistill Workbench: universal morphology control with distilled hypernetworks.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"workbench.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except WorkbenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        sys.stderr.close()
        return 0
