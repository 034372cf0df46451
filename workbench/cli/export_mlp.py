"""``workbench export-mlp``: generate a robot's base MLP from a HyperDistill checkpoint (numpy .npz)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export-mlp",
        help="generate a robot's standalone MLP from a HyperDistill checkpoint",
        description=(
            "Run the HyperDistill hypernetwork once for the robot and write its base MLP as one .npz "
            "(arrays + JSON header) that workbench.deploy.load_mlp runs with numpy alone. Prints the MLP's "
            "parameter count and FLOPs per step."
        ),
    )
    parser.add_argument("--policy", required=True, type=Path, metavar="CKPT", help="HyperDistill checkpoint")
    parser.add_argument("--robot", required=True, metavar="XML|NAME", help="UNIMAL XML file or robot name")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.npz")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.errors import WorkbenchError
    from workbench.models import HyperDistillPolicy, load_checkpoint

    policy = load_checkpoint(args.policy).policy
    if not isinstance(policy, HyperDistillPolicy):
        raise WorkbenchError(f"checkpoint holds a {type(policy).__name__}, not a HyperDistill policy "
                             f"(only hypernetworks generate an MLP)", path=args.policy)
    mlp = policy.generate(str(args.robot))
    path = mlp.save(args.out)
    print(f"robot: {mlp.robot} (fingerprint {mlp.fingerprint}), {int(mlp.limb_mask.sum())} limbs, "
          f"{int(mlp.action_mask.sum())} actions")
    print(f"parameters: {mlp.num_parameters:,}")
    print(f"FLOPs per step: {mlp.flops_per_step:,}")
    print(f"wrote {path}")
    return 0
