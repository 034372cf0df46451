"""``workbench average-weights``: one checkpoint whose weights are the mean of several (same architecture)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "average-weights",
        help="average the weights of checkpoints of one architecture (e.g. a student's last DAgger rounds)",
        description=(
            "Write one checkpoint whose learned parameters are the uniform mean of those of the given "
            "checkpoints (same architecture; equal observation statistics). The mean of the shipped HN's last "
            "two DAgger rounds beat both rounds; for a wider HN it fell between them (checkpoints/README.md). "
            "The result is an ordinary checkpoint: evaluate, export-mlp and results accept it."
        ),
    )
    parser.add_argument("checkpoints", nargs="+", type=Path, help="two or more checkpoints (policy.pt / student.pt)")
    parser.add_argument("--out", type=Path, required=True, help="the averaged checkpoint to write")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.models.averaging import average_checkpoints

    model = average_checkpoints(args.checkpoints, args.out)
    count = sum(parameter.numel() for parameter in model.parameters())
    print(f"averaged {len(args.checkpoints)} checkpoints ({count:,} parameters) -> {args.out}")
    return 0
