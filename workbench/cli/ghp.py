"""``workbench ghp train|sweep|select|export``: graph hyper policies (one hypernetwork, many small actors)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ghp", help="graph hyper policies: train, sweep, select and export small SAC actors",
        description="Train a graph hyper policy (or the 256x256 SAC baseline) with SAC, sweep the architectures "
                    "it generates, pick the best under a parameter budget and export it as a numpy .npz.")
    sub = parser.add_subparsers(dest="ghp_command", metavar="ACTION")
    sub.required = True

    p = sub.add_parser("train", help="SAC training (progress bar, metrics.csv, atomic checkpoints, --resume)")
    p.add_argument("--env", default="Hopper-v5", help="Gymnasium id (Hopper-v5, HalfCheetah-v5) or UNIMAL robot")
    p.add_argument("--actor", default="ghp", choices=("ghp", "mlp"))
    p.add_argument("--total-steps", type=int, required=True, metavar="N")
    p.add_argument("--out", type=Path, required=True, metavar="RUN")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--learning-starts", type=int, default=5_000)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--checkpoint-every", type=int, default=10_000, metavar="STEPS")
    p.add_argument("--buffer-float16", action="store_true", help="float16 replay storage (smaller checkpoints)")
    p.add_argument("--resume", action="store_true")
    p.set_defaults(func=run_train)

    p = sub.add_parser("sweep", help="evaluate many generated architectures; CSV + Pareto figure")
    p.add_argument("--run", type=Path, required=True, metavar="RUN")
    p.add_argument("--episodes", type=int, default=5, metavar="K")
    p.add_argument("--architectures", default="100", metavar="all|N", help="all 4,680 or a stratified sample of N")
    p.add_argument("--out", type=Path, default=None, metavar="CSV", help="default RUN/sweep.csv")
    p.set_defaults(func=run_sweep)

    p = sub.add_parser("select", help="best architecture under a parameter budget (measured and predicted)")
    p.add_argument("--run", type=Path, required=True, metavar="RUN")
    p.add_argument("--budget", type=int, required=True, metavar="PARAMS")
    p.add_argument("--sweep", type=Path, default=None, metavar="CSV", help="default RUN/sweep.csv if present")
    p.set_defaults(func=run_select)

    p = sub.add_parser("export", help="one actor as a workbench.deploy .npz")
    p.add_argument("--run", type=Path, required=True, metavar="RUN")
    p.add_argument("--architecture", default=None, metavar="W1,W2,..", help="required for a GHP run")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.npz")
    p.set_defaults(func=run_export)


def run_train(args: argparse.Namespace) -> int:
    import json

    import torch

    from workbench.errors import WorkbenchError
    from workbench.small_policies.sac import SACConfig
    from workbench.small_policies.train import TrainConfig, Trainer

    torch.set_num_threads(1)
    cfg = TrainConfig(env=args.env, actor=args.actor, total_steps=args.total_steps, seed=args.seed,
                      checkpoint_every=args.checkpoint_every, buffer_float16=args.buffer_float16,
                      sac=SACConfig(learning_starts=args.learning_starts, batch_size=args.batch_size))
    if args.resume:
        saved = args.out / "config.json"
        if not saved.is_file():
            raise WorkbenchError("no config.json to resume", args.out)
        # The run's own config, with only the length changed: a run continues across sessions.
        cfg = TrainConfig.from_dict({**json.loads(saved.read_text()), "total_steps": args.total_steps})
    trainer = Trainer(cfg)
    trainer.run(args.out, resume=args.resume)
    print(f"trained {cfg.actor} on {cfg.env} to {trainer.step:,} env steps ({trainer.episode} episodes): {args.out}")
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    import torch

    from workbench.errors import WorkbenchError
    from workbench.small_policies import envs
    from workbench.small_policies.sweep import pareto_figure, smallest_within, stratified_sample, sweep, write_csv
    from workbench.small_policies.train import load_policy

    torch.set_num_threads(1)
    actor, cfg = load_policy(args.run)
    if args.architectures == "all":
        n = 10**9
    else:
        try:
            n = int(args.architectures)
        except ValueError:
            raise WorkbenchError(f"--architectures must be 'all' or a number, got {args.architectures!r}") from None
        if n < 1:
            raise WorkbenchError("--architectures must be positive")
    archs = stratified_sample(n, actor.obs_dim, actor.act_dim, cfg.seed) if actor.kind == "ghp" else [None]
    rows = sweep(actor, envs.make(cfg.env), archs, args.episodes)
    out = args.out or args.run / "sweep.csv"
    write_csv(out, rows)
    best = max(rows, key=lambda r: r.mean_return)
    small = smallest_within(rows)
    pareto_figure(rows, small, f"{cfg.env}: {cfg.actor}").write_html(out.with_suffix(".html"), include_plotlyjs=True)
    print(f"swept {len(rows)} architectures x {args.episodes} episodes: {out}")
    print(f"best: {','.join(map(str, best.architecture))} {best.params:,} params, return {best.mean_return:.1f}")
    print(f"smallest within 90% of best: {','.join(map(str, small.architecture))} {small.params:,} params, "
          f"return {small.mean_return:.1f}")
    return 0


def run_select(args: argparse.Namespace) -> int:
    from workbench.small_policies.space import count
    from workbench.small_policies.sweep import best_under_budget, predict_under_budget, read_csv
    from workbench.small_policies.train import load_policy

    actor, _ = load_policy(args.run)
    predicted = predict_under_budget(args.budget, actor.obs_dim, actor.act_dim)  # impossible budget: error
    c = count(predicted, actor.obs_dim, actor.act_dim)
    print(f"capacity proxy: {','.join(map(str, predicted))} ({c.params:,} params, {c.flops:,} FLOPs/step)")
    path = args.sweep or (args.run / "sweep.csv")
    if args.sweep is not None or path.is_file():
        best = best_under_budget(read_csv(path), args.budget)
        print(f"measured best:  {','.join(map(str, best.architecture))} ({best.params:,} params, "
              f"{best.flops:,} FLOPs/step), return {best.mean_return:.1f} +- {best.stderr:.1f}")
    else:
        print("measured best:  (no sweep; run `workbench ghp sweep` first)")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from workbench.errors import WorkbenchError
    from workbench.small_policies import envs
    from workbench.small_policies.export import to_deploy
    from workbench.small_policies.space import parse_architecture
    from workbench.small_policies.train import load_policy

    actor, cfg = load_policy(args.run)
    arch = None
    if actor.kind == "ghp":
        if args.architecture is None:
            raise WorkbenchError("--architecture is required to export from a graph hyper policy")
        arch = parse_architecture(args.architecture)
    mlp = to_deploy(actor, arch, envs.deploy_layout(envs.make(cfg.env)), cfg.env)
    path = mlp.save(args.out)
    print(f"{cfg.env} actor {mlp.header['architecture']}: {mlp.num_parameters:,} parameters, "
          f"{mlp.flops_per_step:,} FLOPs per step: {path}")
    return 0
