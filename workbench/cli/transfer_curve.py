"""``workbench transfer-curve``: the teacher recipe on growing prefixes of the training robots, each
policy evaluated on the same unseen sets (CSV + plotly figure; rerun to resume)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli._overrides import parse_overrides
from workbench.errors import WorkbenchError
from workbench.files import atomic_write_text


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 12,25,50,100, got {text!r}") from None
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return sizes


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "transfer-curve",
        help="the teacher recipe on the first 12, 25, 50, 100 robots, evaluated on unseen robots",
        description=(
            "For each size N, distil the first N specialists of `workbench train-specialists` into one ModuMorph "
            "(warm start, then DAgger rounds labelled by the specialists), evaluate it on its N training robots "
            "and on every --unseen set, and add the rows to CSV (one per size and set; fraction_of_train is the "
            "set's mean over the training mean). Sizes already in CSV are skipped, and every stage resumes, so "
            "rerun the same command to finish an interrupted curve. Writes the figure beside the CSV (.html)."
        ),
    )
    parser.add_argument("--specialists", required=True, type=Path, metavar="DIR", help="train-specialists output")
    parser.add_argument("--sizes", type=_sizes, default=(12, 25, 50, 100), help="training-set sizes (12,25,50,100)")
    parser.add_argument("--unseen", nargs="+", default=["generated-test-v2"], metavar="ROBOTS",
                        help="unseen robot sets: suites or directories (default generated-test-v2)")
    parser.add_argument("--max-unseen-robots", type=int, default=None, help="only the first robots of each set")
    parser.add_argument("--episodes", type=int, default=8, help="episodes per robot (8)")
    parser.add_argument("--dagger-rounds", type=int, default=2, help="DAgger rounds after the warm start (2)")
    parser.add_argument("--epochs-per-round", type=int, default=20, help="epochs of each DAgger round (20)")
    parser.add_argument("--transitions-per-robot", type=int, default=16000, help="recorded per specialist")
    parser.add_argument("--envs-per-robot", type=int, default=8, help="parallel envs while recording (8)")
    parser.add_argument("--config", default="workbench-ft", help="named distillation configuration")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="replace a distillation setting of the warm start; repeatable")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="work folder (datasets, runs)")
    parser.add_argument("--csv", required=True, type=Path, metavar="FILE.csv", help="the curve's table")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.analysis.transfer import TransferConfig, transfer_curve, transfer_figure

    if args.csv.suffix != ".csv":
        raise WorkbenchError("the table must be a .csv file", args.csv)
    config = TransferConfig(sizes=args.sizes, unseen=tuple(args.unseen), max_unseen_robots=args.max_unseen_robots,
                            episodes=args.episodes, dagger_rounds=args.dagger_rounds, distill_config=args.config,
                            distill_overrides=parse_overrides(args.overrides), epochs_per_round=args.epochs_per_round,
                            transitions_per_robot=args.transitions_per_robot, envs_per_robot=args.envs_per_robot,
                            seed=args.seed)
    table = transfer_curve(args.specialists, args.out, args.csv, config, progress=not args.no_progress,
                           log=lambda message: print(message, file=sys.stderr))
    figure_path = args.csv.with_suffix(".html")
    atomic_write_text(figure_path, transfer_figure(table).to_html(include_plotlyjs=True, full_html=True))
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    print(f"wrote {args.csv} and {figure_path}")
    return 0
