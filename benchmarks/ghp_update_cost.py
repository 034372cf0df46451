"""Time per SAC update with the graph-hyper-policy actor over the plain 256x256 actor (same run, one thread).

    python benchmarks/ghp_update_cost.py [--updates N] [--batch-size B]

Both actors update on the same random Hopper-sized batches (obs 11, act 3) with the same twin-Q critics;
the last line is ``ghp_update_cost_vs_sac: X``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from workbench.small_policies.actors import Actor
from workbench.small_policies.sac import QNetwork, SACConfig, update


def seconds_per_update(kind: str, updates: int, batch_size: int, obs_dim: int = 11, act_dim: int = 3) -> float:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    cfg = SACConfig(batch_size=batch_size)
    actor = Actor(kind, obs_dim, act_dim, -np.ones(act_dim), np.ones(act_dim), cfg.num_archs, cfg.resample_every)
    qf1, qf2, qf1_t, qf2_t = (QNetwork(obs_dim, act_dim) for _ in range(4))
    log_alpha = torch.zeros((), requires_grad=True)
    opts = {"q": torch.optim.Adam(list(qf1.parameters()) + list(qf2.parameters()), lr=cfg.q_lr),
            "actor": torch.optim.Adam(actor.parameters(), lr=cfg.policy_lr),
            "alpha": torch.optim.Adam([log_alpha], lr=cfg.q_lr)}
    batch = {"obs": torch.randn(batch_size, obs_dim), "actions": torch.rand(batch_size, act_dim) * 2 - 1,
             "rewards": torch.randn(batch_size, 1), "next_obs": torch.randn(batch_size, obs_dim),
             "dones": torch.zeros(batch_size, 1)}
    actor.resample(rng)
    start = time.perf_counter()
    for step in range(updates):
        if step % cfg.resample_every == 0:
            actor.resample(rng)
        update(step, batch, actor, qf1, qf2, qf1_t, qf2_t, log_alpha, opts, cfg, -float(act_dim))
    return (time.perf_counter() - start) / updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(1)
    mlp = seconds_per_update("mlp", args.updates, args.batch_size)
    ghp = seconds_per_update("ghp", args.updates, args.batch_size)
    print(f"mlp actor: {1e3 * mlp:.2f} ms/update; ghp actor: {1e3 * ghp:.2f} ms/update "
          f"({args.updates} updates, batch {args.batch_size}, 1 thread)")
    print(f"ghp_update_cost_vs_sac: {ghp / mlp:.2f}")


if __name__ == "__main__":
    main()
