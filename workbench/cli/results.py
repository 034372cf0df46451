"""``workbench results``: every policy on every robot set -> one table (CSV) and one plot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.errors import WorkbenchError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "results",
        help="evaluate a teacher and its students on robot sets: results table (CSV) and plot",
        description=(
            "Evaluate the teacher and each student on each robot set (mean action, frozen normalisation, "
            "--episodes per robot) and write one table: method, robot set, mean return, standard error over "
            "robots, parameters and FLOPs per step at inference, return relative to the teacher. Per-policy "
            "evaluations go to --evals-dir (CSV per pair + index.json); pairs already evaluated with the same "
            "checkpoint and settings are reused, and --from-csv rebuilds table and plot from such a folder "
            "without simulating."
        ),
    )
    parser.add_argument("--teacher", type=Path, metavar="CKPT", help="teacher checkpoint (method name 'teacher')")
    parser.add_argument("--students", nargs="+", default=[], metavar="NAME=CKPT",
                        help="student checkpoints (or generated-MLP .npz files) with their method names")
    parser.add_argument("--robot-sets", nargs="+", default=[], metavar="NAME=SUITE|DIR",
                        help="robot sets with their names, e.g. train=generated-train test=../shared/unimal/test")
    parser.add_argument("--task", choices=("ft", "vt", "obstacle"), default=None,
                        help="task (default: the teacher's)")
    parser.add_argument("--episodes", type=int, default=16, help="episodes per robot (16)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-robots", type=int, default=None, help="evaluate the first N robots of each set only")
    parser.add_argument("--max-episode-steps", type=int, default=None,
                        help="episode length cap (default: the environment's, 1000; for quick checks)")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.csv", help="results table")
    parser.add_argument("--plot", type=Path, default=None, metavar="FILE.html|.png",
                        help="also write the plot (HTML always; PNG only where kaleido is installed)")
    parser.add_argument("--evals-dir", type=Path, default=None, metavar="DIR",
                        help="per-policy evaluation CSVs (default: beside --out, OUT-evals/)")
    parser.add_argument("--from-csv", type=Path, default=None, metavar="DIR",
                        help="rebuild table and plot from an evaluations folder (no simulation)")
    parser.add_argument("--deploy-hn", action="store_true",
                        help="run HyperDistill students the deployment way: each robot's MLP generated once and run "
                             "in numpy (same actions up to float rounding, much faster)")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=run)


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise WorkbenchError(f"{what} expects NAME=VALUE, got {item!r}")
        if name in out:
            raise WorkbenchError(f"{what}: name {name!r} given twice")
        out[name] = value
    return out


def run(args: argparse.Namespace) -> int:
    from workbench.analysis.results import evaluate_policies, format_results, table_from_index, write_plot, write_table

    if args.from_csv is not None:
        evals_dir = args.from_csv
    else:
        if args.teacher is None or not args.robot_sets:
            raise WorkbenchError("give --teacher and --robot-sets (or --from-csv DIR to rebuild from evaluations)")
        students = _pairs(args.students, "--students")
        if "teacher" in students:
            raise WorkbenchError("--students: the name 'teacher' is the --teacher's")
        for name, path in students.items():
            if not Path(path).is_file():
                raise WorkbenchError(f"no such checkpoint for student {name!r}", path)
        if not args.teacher.is_file():
            raise WorkbenchError("no such teacher checkpoint", args.teacher)
        task = args.task
        if task is None:
            from workbench.models import load_checkpoint

            task = load_checkpoint(args.teacher).config.task
        policies = {"teacher": str(args.teacher), **students}
        evals_dir = args.evals_dir or args.out.with_name(f"{args.out.stem}-evals")
        evaluate_policies(policies, _pairs(args.robot_sets, "--robot-sets"), evals_dir, task=task,
                          episodes=args.episodes, seed=args.seed, max_episode_steps=args.max_episode_steps,
                          max_robots=args.max_robots, deploy_hypernetworks=args.deploy_hn,
                          progress=not args.no_progress,
                          log=lambda message: print(message, file=sys.stderr))
    table = table_from_index(evals_dir)
    write_table(table, args.out)
    print(format_results(table))
    print(f"wrote {args.out}", file=sys.stderr)
    if args.plot is not None:
        for path in write_plot(table, args.plot):
            print(f"wrote {path}", file=sys.stderr)
    return 0
