"""PPO training throughput against the raw batched simulation rate, in one process and one run.

(a) Raw batched simulation: the vector env the trainer uses (same robots, same number of
    envs, same physics threads), stepped with random actions; no policy, no learning.
(b) PPO: a short ``workbench-ft`` training on those robots (rollouts with the policy in
    inference mode, GAE, PPO epochs, normaliser updates); samples/s = env steps / wall time
    of whole iterations (the first iteration is a warm-up and is not counted).

The machine may be shared, so (a) is measured before and after (b) and the mean is used.
Ends with ``ppo_fraction_of_sim_rate: X`` (b / a). Benchmarks are not tests: nothing here
asserts timings.

When the trainer's physics uses fewer threads than the machine has (``overlap_rollout`` gives
the simulation one core and the learner the other), (a) is measured with those threads, as the
trainer runs; the simulation on every core is printed beside it as a reference, with PPO's
fraction of that.

    python benchmarks/ppo_throughput.py [--config workbench-ft] [--robots generated-train]
        [--max-robots 20] [--iterations 4] [--seconds 4] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: see workbench/training/__init__.py

import torch  # noqa: E402

from workbench.envs import VectorUnimalEnv  # noqa: E402
from workbench.training.config import get_training_config  # noqa: E402
from workbench.training.trainer import PPOTrainer, load_training_robots  # noqa: E402


def sim_rate(robots, config, seconds: float, seed: int = 0) -> float:
    """Env steps/s of the vector env with random actions (robot assignment as at training start)."""
    env = VectorUnimalEnv(robots, config.num_envs, task=config.task, num_threads=config.sim_threads)
    env.set_robot_probabilities(np.full(len(robots), 1.0 / len(robots)))
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    actions = rng.uniform(-1.0, 1.0, size=(64, config.num_envs, 24))
    for k in range(20):  # warm-up
        env.step(actions[k % 64])
    steps, start, k = 0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        env.step(actions[k % 64])
        steps += config.num_envs
        k += 1
    rate = steps / (time.perf_counter() - start)
    env.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="workbench-ft")
    parser.add_argument("--robots", default=None, help="default: the config's robots")
    parser.add_argument("--max-robots", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=4, help="PPO iterations timed (after one warm-up)")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds of each raw-simulation measurement")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    overrides = {"max_robots": args.max_robots}
    if args.robots:
        overrides["robots"] = args.robots
    for item in args.overrides:
        key, _, raw = item.partition("=")
        try:
            overrides[key] = json.loads(raw)
        except ValueError:
            overrides[key] = raw
    config = get_training_config(args.config, **overrides)
    robots = load_training_robots(config)

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}")
    print(
        f"config: {config.name} policy={config.policy} model={config.model}, {len(robots)} robots, "
        f"{config.num_envs} envs x {config.num_steps} steps, minibatch {config.minibatch_size}, epochs {config.epochs}, "
        f"threads sim={config.sim_threads or 'env default'} rollout={config.rollout_threads} learner={config.learner_threads}"
    )

    sim_before = sim_rate(robots, config, args.seconds)
    print(f"raw batched simulation (before): {sim_before:,.0f} env steps/s")

    trainer = PPOTrainer(config, None, robots=robots, tensorboard=False)
    print(f"context sharing: {trainer.sharing.enabled} (grouped ModuMorph path: {trainer.sharing.grouped})")
    trainer.iteration_step()  # warm-up
    rows = []
    start = time.perf_counter()
    for _ in range(args.iterations):
        rows.append(trainer.iteration_step())
    elapsed = time.perf_counter() - start
    ppo = args.iterations * config.batch_size / elapsed
    trainer.env.close()

    sim_after = sim_rate(robots, config, args.seconds)
    print(f"raw batched simulation (after):  {sim_after:,.0f} env steps/s")
    sim = 0.5 * (sim_before + sim_after)
    all_cores = None
    if config.sim_threads is not None and config.sim_threads < (os.cpu_count() or 1):
        all_cores = sim_rate(robots, config.replace(sim_threads=None), args.seconds)

    sim_t = sum(r["sim_time_s"] for r in rows)
    pol_t = sum(r["policy_time_s"] for r in rows)
    learn_t = sum(r["learner_time_s"] for r in rows)
    total = sim_t + pol_t + learn_t
    epochs = np.mean([r["epochs_run"] for r in rows])
    print(
        f"PPO time split: simulation {sim_t / total:.0%}, acting (policy forward + bookkeeping) {pol_t / total:.0%}, "
        f"learner {learn_t / total:.0%} (mean epochs run {epochs:.2f})"
    )
    n = len(rows)
    print(
        f"per iteration ({config.batch_size} samples): rollout {(sim_t + pol_t) / n:.2f} s, learner {learn_t / n:.2f} s, "
        f"wall {elapsed / n:.2f} s" + (" (rollout and learner overlap)" if config.overlap_rollout else "")
    )
    if all_cores is not None:
        print(
            f"reference: the simulation on all {os.cpu_count()} cores runs {all_cores:,.0f} env steps/s; "
            f"PPO is {ppo / all_cores:.3f} of that"
        )
    print(f"raw_sim_steps_per_s: {sim:.0f}")
    print(f"ppo_samples_per_s: {ppo:.0f}")
    print(f"ppo_fraction_of_sim_rate: {ppo / sim:.3f}")


if __name__ == "__main__":
    main()
