"""``workbench train-specialists``: one single-robot PPO MLP per training robot (warm start, step 1)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli._overrides import parse_overrides


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-specialists",
        help="train one PPO specialist per robot (the warm start's first step)",
        description=(
            "Train one single-robot PPO policy per robot into OUT/<robot>/ (each an ordinary train-teacher "
            "run directory). Rerunning the same command skips finished robots and resumes interrupted ones. "
            "`workbench warm-start` then distils the specialists into one universal ModuMorph."
        ),
    )
    parser.add_argument("--config", default="workbench-specialist", help="named training configuration "
                        "(default: workbench-specialist: MLP, 1M steps, single-threaded, the shipped specialists' "
                        "setting; workbench-specialist-v2: the same at a quarter of the Adam steps, about half the cost)")
    parser.add_argument("--robots", default=None, help="robot suite name or directory of XMLs (default: the config's)")
    parser.add_argument("--max-robots", type=int, default=None, help="the first N robots of the set only")
    parser.add_argument("--total-steps", type=int, default=None, help="environment steps per robot")
    parser.add_argument("--jobs", type=int, default=1, help="specialists trained side by side (processes)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="replace any training setting (value parsed as JSON, else a string); repeatable")
    parser.add_argument("--out", required=True, type=Path, metavar="OUT_DIR", help="specialists directory")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (one line per finished robot)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from workbench.training.config import get_training_config
    from workbench.training.specialists import train_specialists
    from workbench.training.trainer import load_training_robots

    changes = parse_overrides(args.overrides)
    for key, value in (("robots", args.robots), ("max_robots", args.max_robots), ("total_steps", args.total_steps)):
        if value is not None:
            changes[key] = value
    config = get_training_config(args.config, **changes)
    count = len(load_training_robots(config))
    print(f"training {count} specialists ({config.policy}, {config.total_steps:,} steps each, "
          f"{args.jobs} at a time) -> {args.out}", file=sys.stderr)
    with tqdm(total=count, unit="robot", dynamic_ncols=True, desc="specialists",
              disable=args.no_progress) as bar:
        for result in train_specialists(config, args.out, jobs=args.jobs):
            bar.write(f"{result.robot}: {result.env_steps:,} steps, recent return {result.recent_return:.1f}, "
                      f"{result.wall_time_s:.0f} s")
            bar.update(1)
    print(f"done: {count} specialists in {args.out}")
    return 0
