"""``workbench gallery``: the shipped teacher and HN student side by side on a handful of robots."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.rendering.policy_video import ReturnTracker

DEFAULT_TEACHER = Path("checkpoints/teacher-ft/policy.pt")
DEFAULT_STUDENT = Path("checkpoints/distill-ft/hyperdistill/student.pt")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gallery",
        help="render the teacher and the HN student side by side on a few robots (one MP4 per robot)",
        description="For each of the first N robots of a set, write OUT/<robot>.mp4: the teacher (left) and "
        "the student (right) acting on the same robot from the same start, each with its running return. "
        "A HyperDistill student runs as deployed: the MLP its hypernetwork generates for the robot.",
    )
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--teacher", default=str(DEFAULT_TEACHER), help=f"teacher checkpoint (default: {DEFAULT_TEACHER})")
    parser.add_argument("--student", default=str(DEFAULT_STUDENT), help=f"student checkpoint (default: {DEFAULT_STUDENT})")
    parser.add_argument("--robots", default="generated-train",
                        help="robot suite name, folder of UNIMAL XMLs or XML file (default: generated-train)")
    parser.add_argument("--n", type=int, default=4, help="robots to render: the first N of --robots (default: 4)")
    parser.add_argument("--task", default="ft", choices=("ft", "vt", "obstacle"), help="environment (default: ft)")
    parser.add_argument("--steps", type=int, default=500, help="env steps = frames per video (default: 500)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the episodes (default: 0)")
    parser.add_argument("--size", type=int, default=360, help="width and height of each half in pixels, even (default: 360)")
    parser.add_argument("--fps", type=float, default=None, help="video frame rate (default: real time, 1/dt = 50)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def _check_args(args: argparse.Namespace) -> None:
    if args.n < 1:
        raise WorkbenchError(f"--n must be >= 1, got {args.n}")
    if args.steps < 1:
        raise WorkbenchError(f"--steps must be >= 1, got {args.steps}")
    if args.size < 16 or args.size > 2048 or args.size % 2:
        raise WorkbenchError(f"--size must be an even number of pixels in [16, 2048], got {args.size}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise WorkbenchError("--out must be a folder, not a file", out)
    for flag, path in (("--teacher", args.teacher), ("--student", args.student)):
        if not Path(path).is_file():
            raise WorkbenchError(f"no {flag[2:]} checkpoint here (train one first, or pass {flag} PATH)", path)


def run(args: argparse.Namespace) -> int:
    _check_args(args)

    from workbench.envs import EnvConfig
    from workbench.morphology import load_robots
    from workbench.rendering.policy_video import ReturnTracker, bind_policy, save_video, side_by_side_frames

    robots = list(load_robots(args.robots))[: args.n]
    if not robots:
        raise WorkbenchError(f"no robots in {args.robots!r}")
    out = Path(args.out)
    config = EnvConfig()
    fps = args.fps or 1.0 / config.dt
    bar = None
    if not args.no_progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(robots), unit="robot", desc="gallery", dynamic_ncols=True)
    try:
        for robot in robots:
            policies = [
                bind_policy(args.teacher, robot, task=args.task, seed=args.seed, label="teacher"),
                bind_policy(args.student, robot, task=args.task, seed=args.seed, deploy_hypernetwork=True),
            ]
            student_label = "HN student (generated MLP)" if policies[1].deployed else "student"
            policies[1] = dataclasses.replace(policies[1], label=student_label)
            trackers = [ReturnTracker(), ReturnTracker()]
            frames = side_by_side_frames(robot, policies, task=args.task, steps=args.steps, seed=args.seed,
                                         width=args.size, height=args.size, config=config, trackers=trackers)
            path = out / f"{robot.name}.mp4"
            count = save_video(frames, path, fps=fps, total=args.steps, progress=bar is not None, leave=False)
            summary = "; ".join(
                f"{p.label}: first episode {_first_return(t):.1f}" for p, t in zip(policies, trackers))
            message = f"wrote {path} ({count} frames): {summary}"
            if bar is not None:
                bar.write(message)
                bar.update(1)
            else:
                print(message)
    finally:
        if bar is not None:
            bar.close()
    return 0


def _first_return(tracker: ReturnTracker) -> float:
    """Return of the first episode, or the running return when it has not ended within the video."""
    return tracker.finished[0] if tracker.finished else tracker.current
