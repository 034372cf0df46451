"""``workbench dagger``: DAgger rounds after a distillation (the student acts, the teacher labels)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dagger",
        help="DAgger rounds after a distillation: record the student, label with the teacher, distil on",
        description=(
            "Each round records the latest student (with the teacher's noise) on the PD robots of DATASET, "
            "stores the teacher's action means at the states the student visits in DATA_DIR/round-K, and goes on "
            "distilling the student on every dataset so far into OUT/round-K. The teacher, robots and collection "
            "settings come from DATASET's manifest, the student and its settings from RUN_DIR's config.json. "
            "OUT/rounds.csv has one row per round, OUT/student.pt is the last student. Rerunning the same "
            "command resumes."
        ),
    )
    parser.add_argument("--dataset", required=True, type=Path, metavar="DATASET",
                        help="the first dataset (of workbench collect)")
    parser.add_argument("--run", required=True, type=Path, metavar="RUN_DIR",
                        help="the finished workbench distill run on DATASET whose student starts the rounds")
    parser.add_argument("--rounds", type=int, default=2, help="DAgger rounds (2)")
    parser.add_argument("--epochs", type=int, default=20, help="distillation epochs per round (20)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: RUN_DIR's setting)")
    parser.add_argument("--data-dir", required=True, type=Path, metavar="DATA_DIR",
                        help="where the rounds' datasets go (large: keep it out of git)")
    parser.add_argument("--out", required=True, type=Path, metavar="OUT", help="where the rounds' students go")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.distillation.dagger import DaggerConfig, run_dagger

    config = DaggerConfig(rounds=args.rounds, epochs_per_round=args.epochs, threads=args.threads)
    student = run_dagger(args.dataset, args.run, args.data_dir, args.out, config, progress=not args.no_progress,
                         log=lambda message: print(message, file=sys.stderr))
    print(f"done: {args.rounds} DAgger round(s); student {student}; per round: {args.out / 'rounds.csv'}")
    return 0
