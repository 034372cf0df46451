"""``workbench collect``: run a teacher on the PD robots and store a distillation dataset (resumable)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "collect",
        help="collect a distillation dataset: the stochastic teacher on the training robots and their mutants",
        description=(
            "Build the PD robot set (the training robots plus --mutants-per-robot seeded mutants of each, 1-3 "
            "mutation steps, duplicates dropped by fingerprint), run the stochastic teacher (Gaussian with its "
            "fixed std) on every PD robot and store, per transition, the raw observation and the teacher's action "
            "mean, per robot its XML and static arrays. Shards of .npy files plus manifest.json with sha256 "
            "checksums and the teacher's normalisation statistics. Rerunning the same command after an "
            "interruption keeps the finished shards and collects the rest."
        ),
    )
    parser.add_argument("--teacher", required=True, type=Path, metavar="CKPT",
                        help="teacher checkpoint (e.g. RUN_DIR/policy.pt of workbench train-teacher)")
    parser.add_argument("--robots", required=True, metavar="SUITE|DIR",
                        help="the teacher's training robots: suite name, folder of XMLs or XML file")
    parser.add_argument("--mutants-per-robot", type=int, default=9, help="distinct mutants per training robot (9)")
    parser.add_argument("--transitions-per-robot", type=int, default=8000, help="transitions per PD robot (8000)")
    parser.add_argument("--envs-per-robot", type=int, default=8, help="parallel environments per robot (8)")
    parser.add_argument("--robots-per-shard", type=int, default=8, help="robots per shard / vector env run (8)")
    parser.add_argument("--max-episode-steps", type=int, default=None,
                        help="episode length cap (default: the environment's, 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seeds mutants, resets and action noise (0)")
    parser.add_argument("--sim-threads", type=int, default=None, help="physics threads (default: the env's)")
    parser.add_argument("--noise-std", type=float, default=None,
                        help="std of the recording noise on the teacher's mean action (default: the teacher's "
                             "std); the targets stay the means")
    parser.add_argument("--behaviour", type=Path, default=None, metavar="CKPT",
                        help="let this policy act (e.g. a distilled student.pt), with the same noise, while the "
                             "teacher only labels its states: one DAgger round; distil on this dataset together "
                             "with the first (`distill --dataset FIRST THIS`)")
    parser.add_argument("--out", required=True, type=Path, metavar="DATASET_DIR", help="dataset folder")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.distillation import CollectConfig, collect_dataset

    config = CollectConfig(
        mutants_per_robot=args.mutants_per_robot,
        transitions_per_robot=args.transitions_per_robot,
        envs_per_robot=args.envs_per_robot,
        robots_per_shard=args.robots_per_shard,
        seed=args.seed,
        max_episode_steps=args.max_episode_steps,
        sim_threads=args.sim_threads,
        noise_std=args.noise_std,
    )
    manifest = collect_dataset(args.teacher, args.robots, args.out, config, progress=not args.no_progress,
                               log=lambda message: print(message, file=sys.stderr), behaviour_path=args.behaviour)
    robots = manifest["robots"]
    training = sum(1 for r in robots if r["training_robot"])
    print(f"dataset {args.out}: {len(robots)} PD robots ({training} training robots + {len(robots) - training} "
          f"mutants), {manifest['num_transitions']:,} transitions in {len(manifest['shards'])} shards, "
          f"task {manifest['task']}")
    return 0
