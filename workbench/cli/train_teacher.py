"""``workbench train-teacher``: multi-robot PPO of a universal policy, resumable."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli._overrides import parse_overrides
from workbench.errors import WorkbenchError


def register(subparsers: argparse._SubParsersAction) -> None:
    from workbench.training.config import NAMED_CONFIGS

    parser = subparsers.add_parser(
        "train-teacher",
        help="train a universal teacher with multi-robot PPO (resumable)",
        description=(
            "Train a universal policy with multi-robot PPO. RUN_DIR receives config.json, metrics.csv, "
            "checkpoint.pt (full state, for --resume) and policy.pt (the policy, for load_policy / evaluate). "
            "A run interrupted and resumed ends with exactly the weights of an uninterrupted one (CPU)."
        ),
    )
    parser.add_argument("--config", default="workbench-ft", choices=sorted(NAMED_CONFIGS),
                        help="named training configuration (default: workbench-ft)")
    parser.add_argument("--robots", default=None, help="robot suite name or directory of XMLs (default: the config's)")
    parser.add_argument("--max-robots", type=int, default=None, help="train on the first N robots of the set only")
    parser.add_argument("--total-steps", type=int, default=None, help="environment steps of the whole run")
    parser.add_argument("--seed", type=int, default=None, help="seed (default: the config's, 0)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None, help="learner device (simulation: CPU)")
    parser.add_argument("--policy", default=None,
                        choices=("modumorph", "metamorph", "hyperdistill", "mlp", "tf-compressed", "modumorph-compressed"),
                        help="policy architecture (default: the config's, modumorph)")
    parser.add_argument("--init-policy", default=None, metavar="CKPT",
                        help="start the actor from this policy (a warm start, e.g. warm-start's student.pt)")
    parser.add_argument("--checkpoint-interval", type=float, default=None, metavar="SECONDS",
                        help="seconds between checkpoints (default: the config's, 300)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="replace any training setting (value parsed as JSON, else a string); repeatable")
    parser.add_argument("--out", required=True, type=Path, metavar="RUN_DIR", help="run directory")
    parser.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR from its last checkpoint")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.training.config import PPOConfig, get_training_config, resumed_config
    from workbench.training.trainer import CHECKPOINT_FILE, CONFIG_FILE, PPOTrainer

    run_dir: Path = args.out
    changes = parse_overrides(args.overrides)
    for key, value in (
        ("robots", args.robots),
        ("max_robots", args.max_robots),
        ("total_steps", args.total_steps),
        ("seed", args.seed),
        ("device", args.device),
        ("policy", args.policy),
        ("checkpoint_interval_s", args.checkpoint_interval),
        ("init_policy", args.init_policy),
    ):
        if value is not None:
            changes[key] = value

    if args.resume:
        if not (run_dir / CHECKPOINT_FILE).is_file():
            raise WorkbenchError("no checkpoint.pt to resume from", run_dir)
        saved = PPOConfig.load_json(run_dir / CONFIG_FILE)
        config = resumed_config(saved, changes, run_dir / CONFIG_FILE)
        if config != saved:
            config.save_json(run_dir / CONFIG_FILE)
    else:
        if run_dir.exists() and any((run_dir / name).exists() for name in (CHECKPOINT_FILE, CONFIG_FILE, "metrics.csv")):
            raise WorkbenchError("already holds a run; pass --resume to continue it or choose another --out", run_dir)
        config = get_training_config(args.config, **changes)

    trainer = PPOTrainer(config, run_dir, resume=args.resume)
    start_iteration = trainer.iteration
    print(
        f"{'resuming' if args.resume else 'training'} {config.policy} ({config.model}) on {len(trainer.robots)} robots "
        f"[{config.robots}], {config.num_envs} envs x {config.num_steps} steps, "
        f"{config.num_iterations} iterations ({config.total_steps:,} steps); from iteration {start_iteration} -> {run_dir}",
        file=sys.stderr,
    )
    trainer.train(progress=not args.no_progress)
    print(
        f"done: iteration {trainer.iteration}, {trainer.env_steps:,} env steps, "
        f"recent return {trainer.recent_return:.1f}; policy: {run_dir / 'policy.pt'}"
    )
    return 0
