"""``workbench evaluate``: per-robot returns of a policy (the paper's protocol)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a policy on a set of robots (mean action, frozen normalisation)",
        description=(
            "Run every robot for --episodes episodes with the policy's mean action and frozen normalisation; "
            "print the per-robot table and the mean over robots of the per-robot mean return."
        ),
    )
    parser.add_argument("--policy", required=True,
                        help="policy checkpoint (.pt, any kind of workbench.models), generated MLP (.npz) or 'random'")
    parser.add_argument("--robots", required=True, help="robot suite name, directory of XMLs or XML file")
    parser.add_argument("--task", default="ft", choices=("ft", "vt", "obstacle"))
    parser.add_argument("--episodes", type=int, default=16, help="episodes per robot (default 16)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, metavar="FILE.csv", help="write the table as CSV")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--max-envs", type=int, default=256, help="environments stepped together (default 256)")
    parser.add_argument("--deploy", action="store_true",
                        help="HyperDistill checkpoint: generate each robot's MLP once and run it in numpy "
                             "(the deployment path) instead of the torch hypernetwork")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.analysis.evaluation import (deployed_hypernetwork_adapter, evaluate_policy, format_table,
                                               write_results_csv)

    policy = deployed_hypernetwork_adapter(args.policy) if args.deploy else args.policy
    frame = evaluate_policy(
        policy,
        args.robots,
        task=args.task,
        episodes=args.episodes,
        seed=args.seed,
        max_envs=args.max_envs,
        device=args.device,
        progress=not args.no_progress,
    )
    print(format_table(frame))
    if args.out is not None:
        write_results_csv(frame, args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0
