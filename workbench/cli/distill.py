"""``workbench distill``: behaviour-clone a teacher's dataset into a student (resumable)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli._overrides import parse_overrides
from workbench.errors import WorkbenchError


def register(subparsers: argparse._SubParsersAction) -> None:
    from workbench.distillation.config import NAMED_CONFIGS
    from workbench.distillation.student import STUDENT_METHODS

    parser = subparsers.add_parser(
        "distill",
        help="distil a teacher's dataset into a student (HyperDistill or a baseline)",
        description=(
            "Train a student on a dataset of `workbench collect` with the KL loss between the teacher's and the "
            "student's fixed-std Gaussians (Adam, grad-norm clip, robot-grouped minibatches: a hypernetwork "
            "generates each robot's MLP once per minibatch). The student normalises observations with the "
            "teacher's statistics, frozen. RUN_DIR receives config.json, metrics.csv (one row per epoch), "
            "student.pt (for workbench evaluate / export-mlp) and state.pt (for --resume; an interrupted and "
            "resumed run ends with exactly the weights of an uninterrupted one on CPU)."
        ),
    )
    parser.add_argument("--dataset", required=True, type=Path, nargs="+", metavar="DIR",
                        help="dataset of workbench collect; several folders of the same PD robots and teacher "
                             "(e.g. DAgger rounds, `collect --behaviour`) are read as one")
    parser.add_argument("--student", required=True, choices=STUDENT_METHODS, help="student architecture")
    parser.add_argument("--config", default="workbench-ft", choices=sorted(NAMED_CONFIGS),
                        help="named distillation configuration (default: workbench-ft)")
    parser.add_argument("--out", required=True, type=Path, metavar="RUN_DIR", help="run directory")
    parser.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR from its last checkpoint")
    parser.add_argument("--epochs", type=int, default=None, help="epochs (default: the config's)")
    parser.add_argument("--eval-every", type=int, default=None, metavar="K",
                        help="evaluate the student every K epochs (0: never; default: the config's)")
    parser.add_argument("--eval-robots", nargs="+", default=None, metavar="SUITE|DIR",
                        help="robot sets evaluated besides the training robots")
    parser.add_argument("--init-policy", type=Path, default=None, metavar="CKPT",
                        help="start from this student's weights (same method and size), e.g. the previous "
                             "DAgger round's student.pt (default: a fresh initialisation)")
    parser.add_argument("--seed", type=int, default=None, help="seed (default: the config's, 0)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None, help="training device")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="replace any distillation setting (value parsed as JSON, else a string); repeatable")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.distillation import DistillConfig, Distiller, get_distill_config
    from workbench.distillation.dataset import open_datasets
    from workbench.distillation.storage import read_json
    from workbench.distillation.trainer import CONFIG_FILE, STATE_FILE

    changes = parse_overrides(args.overrides)
    for key, value in (("epochs", args.epochs), ("eval_every", args.eval_every), ("seed", args.seed),
                       ("device", args.device), ("init_policy", str(args.init_policy) if args.init_policy else None),
                       ("eval_robots", tuple(args.eval_robots) if args.eval_robots else None)):
        if value is not None:
            changes[key] = value
    run_dir: Path = args.out
    if args.resume:
        if not (run_dir / STATE_FILE).is_file():
            raise WorkbenchError("no state.pt to resume from", run_dir)
        stored = read_json(run_dir / CONFIG_FILE, "run configuration")
        config = DistillConfig.from_dict(stored["config"])
        if stored.get("student") != args.student:
            raise WorkbenchError(f"the run distils a {stored.get('student')} student, not {args.student}",
                                 run_dir / CONFIG_FILE)
        # Only settings that do not change the run's past may differ on resume.
        resumable = {"epochs", "device", "checkpoint_every", "threads"}
        if config.lr_schedule != "constant":  # the schedule's length is part of the run's past
            resumable.discard("epochs")
        current = config.to_dict()
        conflicting = sorted(k for k, v in changes.items()
                             if k not in resumable and current.get(k) != (list(v) if isinstance(v, tuple) else v))
        if conflicting:
            raise WorkbenchError(f"--resume keeps the run's configuration; cannot change {', '.join(conflicting)}",
                                 run_dir / CONFIG_FILE)
        config = config.replace(**{k: v for k, v in changes.items() if k in resumable}).validate()
    else:
        if run_dir.exists() and any((run_dir / n).exists() for n in (STATE_FILE, CONFIG_FILE, "metrics.csv")):
            raise WorkbenchError("already holds a run; pass --resume to continue it or choose another --out", run_dir)
        config = get_distill_config(args.config, **changes)

    dataset = open_datasets(args.dataset)
    print(f"verifying {dataset.describe()} ...", file=sys.stderr)
    dataset.verify(progress=not args.no_progress)
    distiller = Distiller(config, dataset, args.student, run_dir, resume=args.resume,
                          log=lambda message: print(message, file=sys.stderr))
    params = sum(p.numel() for p in distiller.policy.parameters())
    print(f"{'resuming' if args.resume else 'distilling'} {args.student} ({config.model}, {params:,} trainable "
          f"parameters) for {config.epochs} epochs of {distiller.sampler.batches_per_epoch} steps (batch "
          f"{config.batch_size} = {config.robots_per_batch} robots x {config.chunk_size}); from epoch "
          f"{distiller.epoch} -> {run_dir}", file=sys.stderr)
    distiller.train(progress=not args.no_progress)
    print(f"done: epoch {distiller.epoch}, step {distiller.step}; student: {run_dir / 'student.pt'}")
    return 0
