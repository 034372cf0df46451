"""``workbench render``: an MP4 of a robot in a task (random actions until a policy is given)."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.errors import WorkbenchError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render a robot in a task to an MP4 (headless, CPU)",
        description="Render a robot in FT / VT / Obstacle to an MP4 with a camera that follows it. "
        "Actions are random (seeded); finished episodes restart and the video continues.",
    )
    parser.add_argument("--robot", required=True, help="UNIMAL XML path or built-in robot name")
    parser.add_argument("--task", default="ft", choices=("ft", "vt", "obstacle"), help="environment (default: ft)")
    parser.add_argument("--steps", type=int, default=500, help="env steps = frames in the video (default: 500)")
    parser.add_argument("--out", required=True, help="output .mp4 path")
    parser.add_argument("--seed", type=int, default=0, help="seed of the episode and the random actions (default: 0)")
    parser.add_argument("--width", type=int, default=480, help="frame width in pixels, even (default: 480)")
    parser.add_argument("--height", type=int, default=480, help="frame height in pixels, even (default: 480)")
    parser.add_argument("--fps", type=float, default=None, help="video frame rate (default: real time, 1/dt = 50)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.steps < 1:
        raise WorkbenchError(f"--steps must be >= 1, got {args.steps}")
    for name in ("width", "height"):
        value = getattr(args, name)
        if value < 16 or value > 4096 or value % 2:
            raise WorkbenchError(f"--{name} must be an even number of pixels in [16, 4096], got {value}")
    out = Path(args.out)
    if out.suffix.lower() != ".mp4":
        raise WorkbenchError("the output must be an .mp4 file", out)

    from workbench.envs import EnvConfig
    from workbench.envs.robot import resolve_robot
    from workbench.rendering import render_frames, write_video

    robot = resolve_robot(args.robot)
    config = EnvConfig()
    fps = args.fps or 1.0 / config.dt
    frames = render_frames(
        robot, task=args.task, steps=args.steps, seed=args.seed, width=args.width, height=args.height, config=config
    )
    count = write_video(frames, out, fps=fps, total=args.steps, progress=not args.no_progress)
    print(f"wrote {out} ({count} frames, {args.width}x{args.height}, {fps:g} fps, robot {robot.name}, task {args.task})")
    return 0
