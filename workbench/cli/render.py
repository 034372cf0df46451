"""``workbench render``: an MP4 of any policy (checkpoint, generated MLP, random) on a robot in a task."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.errors import WorkbenchError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render a policy acting on a robot to an MP4 (headless, CPU)",
        description="Render a robot in FT / VT / Obstacle to an MP4 with a camera that follows it, driven by "
        "a policy: a checkpoint of any kind (teacher, student), a generated-MLP .npz of that robot "
        "(workbench export-mlp) or 'random' (seeded). The running return is written on the frames; "
        "finished episodes restart and the video continues.",
    )
    parser.add_argument(
        "--policy", default="random",
        help="CKPT.pt, MLP.npz (generated for this robot) or 'random' (default: random)",
    )
    parser.add_argument("--robot", required=True, help="UNIMAL XML path or built-in robot name")
    parser.add_argument("--task", default="ft", choices=("ft", "vt", "obstacle"), help="environment (default: ft)")
    parser.add_argument("--steps", type=int, default=500, help="env steps = frames in the video (default: 500)")
    parser.add_argument("--out", required=True, help="output .mp4 path")
    parser.add_argument("--seed", type=int, default=0, help="seed of the episode and the random actions (default: 0)")
    parser.add_argument("--deploy", action="store_true",
                        help="run a HyperDistill checkpoint as its generated MLP (numpy), as deployed")
    parser.add_argument("--no-overlay", action="store_true", help="no text (policy, running return) on the frames")
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
    from workbench.rendering.policy_video import ReturnTracker, bind_policy, policy_frames, save_video

    robot = resolve_robot(args.robot)
    morphology = robot.morphology
    policy = bind_policy(args.policy, morphology, task=args.task, seed=args.seed, deploy_hypernetwork=args.deploy)
    config = EnvConfig()
    fps = args.fps or 1.0 / config.dt
    tracker = ReturnTracker()
    frames = policy_frames(morphology, policy, task=args.task, steps=args.steps, seed=args.seed, width=args.width,
                           height=args.height, config=config, tracker=tracker, overlay=not args.no_overlay)
    count = save_video(frames, out, fps=fps, total=args.steps, progress=not args.no_progress)
    finished = ", ".join(f"{r:.1f}" for r in tracker.finished) or "none"
    print(f"wrote {out} ({count} frames, {args.width}x{args.height}, {fps:g} fps, robot {robot.name}, task {args.task}, "
          f"policy {policy.label}; finished episode returns: {finished}; running return {tracker.current:.1f})")
    return 0
