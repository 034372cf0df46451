"""``workbench warm-start``: distil per-robot specialists into one universal ModuMorph (resumable)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli._overrides import parse_overrides


def register(subparsers: argparse._SubParsersAction) -> None:
    from workbench.distillation.config import NAMED_CONFIGS

    parser = subparsers.add_parser(
        "warm-start",
        help="behaviour-clone per-robot specialists into one ModuMorph (a teacher's warm start)",
        description=(
            "Record each specialist of `workbench train-specialists` on its own robot (stochastic, its fixed "
            "std; the observation statistics pooled over all specialists) into DATASET_DIR, then distil the "
            "dataset into a ModuMorph of the teacher's size in RUN_DIR (student.pt, metrics.csv). Continue with "
            "`workbench train-teacher --init-policy RUN_DIR/student.pt`. Rerunning the same command resumes."
        ),
    )
    parser.add_argument("--specialists", required=True, type=Path, metavar="DIR", help="train-specialists output")
    parser.add_argument("--dataset", required=True, type=Path, metavar="DATASET_DIR",
                        help="where the specialists' dataset goes (large: keep it out of git)")
    parser.add_argument("--transitions-per-robot", type=int, default=16000,
                        help="transitions per robot (16000 = 8 envs x 2 full episodes)")
    parser.add_argument("--envs-per-robot", type=int, default=8, help="parallel environments per robot (8)")
    parser.add_argument("--noise-std", type=float, default=None,
                        help="std of the recording noise on the specialists' mean actions (default: their std)")
    parser.add_argument("--config", default="workbench-ft", choices=sorted(NAMED_CONFIGS),
                        help="named distillation configuration: model size and optimisation (workbench-ft)")
    parser.add_argument("--epochs", type=int, default=None, help="distillation epochs (default: the config's)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the collection and the distillation (0)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="replace any distillation setting (value parsed as JSON, else a string); repeatable")
    parser.add_argument("--out", required=True, type=Path, metavar="RUN_DIR", help="distillation run directory")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.distillation import CollectConfig, get_distill_config
    from workbench.distillation.warm_start import warm_start

    changes = parse_overrides(args.overrides)
    changes.setdefault("eval_every", 0)  # the specialists' robots are evaluated by `workbench evaluate`
    if args.epochs is not None:
        changes["epochs"] = args.epochs
    changes["seed"] = args.seed
    distill_config = get_distill_config(args.config, **changes)
    collect_config = CollectConfig(mutants_per_robot=0, transitions_per_robot=args.transitions_per_robot,
                                   envs_per_robot=args.envs_per_robot, seed=args.seed,
                                   noise_std=args.noise_std)
    policy = warm_start(args.specialists, args.dataset, args.out, collect_config, distill_config,
                        progress=not args.no_progress, log=lambda message: print(message, file=sys.stderr))
    print(f"done: warm-started ModuMorph {policy}; continue with "
          f"`workbench train-teacher --init-policy {policy} ...`")
    return 0
