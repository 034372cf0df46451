"""Cost of one per-robot PPO specialist: two configurations against the same simulation rate, one run.

A specialist trains on one core (``--jobs 2`` runs two side by side), so the reference is the
single-core simulation rate of the same robot with the same number of envs and random actions
(``ppo_throughput.sim_rate``), measured before, between and after the trainings. Each
configuration then runs a short specialist training on that robot (the first iteration is a
warm-up); its samples/s over the mean simulation rate is its fraction. The baseline is the
specialist configuration of the shipped specialists (``workbench-specialist``, 10 epochs x 64);
the candidate is ``--config`` with ``--set`` overrides.

Ends with ``specialist_cost_ratio: X``: the baseline's wall time per env step over the
candidate's (candidate fraction / baseline fraction); above 1 the candidate is cheaper. Whether
it learns as much per step is a separate question, answered by training both to the same number
of steps (checkpoints/README.md). Benchmarks are not tests: nothing here asserts timings.

    python benchmarks/specialist_throughput.py [--robot gen2-train-000] [--config workbench-specialist-v2]
        [--iterations 4] [--seconds 3] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: see workbench/training/__init__.py

import torch  # noqa: E402

from ppo_throughput import sim_rate  # noqa: E402
from workbench.cli._overrides import parse_overrides  # noqa: E402
from workbench.training.config import PPOConfig, get_training_config  # noqa: E402
from workbench.training.trainer import PPOTrainer, load_training_robots  # noqa: E402


def samples_per_s(config: PPOConfig, robots, iterations: int) -> tuple[float, dict[str, float]]:
    """Env steps per wall second of whole PPO iterations, and the mean per-iteration time split."""
    trainer = PPOTrainer(config, None, robots=robots, tensorboard=False)
    trainer.iteration_step()  # warm-up
    rows = []
    start = time.perf_counter()
    for _ in range(iterations):
        rows.append(trainer.iteration_step())
    elapsed = time.perf_counter() - start
    trainer.env.close()
    split = {k: sum(r[k] for r in rows) / len(rows) for k in ("sim_time_s", "policy_time_s", "learner_time_s")}
    return iterations * config.batch_size / elapsed, split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--robot", default="gen2-train-000", help="one robot (name or XML)")
    parser.add_argument("--baseline", default="workbench-specialist")
    parser.add_argument("--config", default="workbench-specialist-v2", help="the candidate configuration")
    parser.add_argument("--iterations", type=int, default=4, help="PPO iterations timed per configuration")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of each simulation measurement")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a field of the candidate")
    args = parser.parse_args()
    torch.set_num_threads(1)

    overrides = parse_overrides(args.overrides)
    baseline = get_training_config(args.baseline, robots=args.robot)
    candidate = get_training_config(args.config, robots=args.robot, **overrides)
    if baseline.num_envs != candidate.num_envs or baseline.sim_threads != candidate.sim_threads:
        print("note: the two configurations simulate differently; the reference is the baseline's vector env")
    robots = load_training_robots(baseline)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}")
    for label, config in (("baseline", baseline), ("candidate", candidate)):
        print(f"{label}: {config.name}, {config.num_envs} envs x {config.num_steps} steps, "
              f"{config.epochs} epochs x minibatch {config.minibatch_size}, bf16 learner {config.learner_bf16}")

    sims = [sim_rate(robots, baseline, args.seconds)]
    base_rate, base_split = samples_per_s(baseline, robots, args.iterations)
    sims.append(sim_rate(robots, baseline, args.seconds))
    cand_rate, cand_split = samples_per_s(candidate, robots, args.iterations)
    sims.append(sim_rate(robots, baseline, args.seconds))
    sim = sum(sims) / len(sims)
    print("single-core simulation: " + ", ".join(f"{s:,.0f}" for s in sims) + " env steps/s (before, between, after)")
    for label, rate, split in (("baseline", base_rate, base_split), ("candidate", cand_rate, cand_split)):
        print(f"{label}: {rate:,.0f} samples/s, {rate / sim:.3f} of the simulation rate; per iteration "
              f"simulation {split['sim_time_s']:.2f} s, acting {split['policy_time_s']:.2f} s, "
              f"learner {split['learner_time_s']:.2f} s")
    print(f"baseline_fraction_of_sim_rate: {base_rate / sim:.3f}")
    print(f"candidate_fraction_of_sim_rate: {cand_rate / sim:.3f}")
    print(f"specialist_cost_ratio: {cand_rate / base_rate:.2f}")


if __name__ == "__main__":
    main()
