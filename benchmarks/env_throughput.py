"""Environment throughput, in one process and one run.

(a) VectorUnimalEnv: 16 copies of a 10-limb robot on FT, random actions.
(b) Gymnasium's Ant-v5 vectorised 16 times (SyncVectorEnv), random actions.
(c) The raw physics rate of the same 16 copies with the same number of threads:
    mujoco.rollout with open-loop random controls, 4 substeps per env step, no
    observation and no Python work per step, from reset states, in rollouts as long
    as (a)'s mean episode length (so that both simulate the same mix of standing,
    falling and lying robots).

The three are measured in short interleaved windows, round after round, and each
figure is the median over the rounds: on a shared machine the load then weighs on
all three alike.
The last two lines are ``speedup_vs_ant: X`` (a/b) and ``fraction_of_physics_limit: Y``
(a/c). Benchmarks are not tests: nothing here asserts timings.

    python benchmarks/env_throughput.py [--threads 2] [--envs 16] [--seconds 0.5] [--rounds 15]
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

import gymnasium as gym  # noqa: E402
import mujoco  # noqa: E402
import mujoco.rollout  # noqa: E402

from workbench.envs import EnvConfig, VectorUnimalEnv  # noqa: E402

SHARED_TRAIN = REPO.parent / "shared" / "unimal" / "train"


def ten_limb_robot():
    """A published 10-limb training robot if present, else a generated 10-limb robot."""
    metadata = SHARED_TRAIN / "metadata"
    if metadata.is_dir():
        for path in sorted(metadata.glob("*.json")):
            if json.loads(path.read_text()).get("num_limbs") == 10:
                return str(SHARED_TRAIN / "xml" / f"{path.stem}.xml"), path.stem
    from workbench.morphology import generate_robot

    for seed in range(10_000):
        robot = generate_robot(seed)
        if robot.num_limbs == 10:
            return robot, f"{robot.name} (generated, seed {seed})"
    raise RuntimeError("no 10-limb robot found")


def timed(fn, seconds: float) -> float:
    """Calls fn() (returning the env steps it made) for about ``seconds``; returns steps/s."""
    steps, start = 0, time.perf_counter()
    while True:
        steps += fn()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--envs", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one measurement window")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (median reported)")
    args = parser.parse_args()
    n = args.envs
    config = EnvConfig()
    robot, label = ten_limb_robot()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus; mujoco {mujoco.__version__}, gymnasium {gym.__version__}")
    print(f"load average before: {os.getloadavg()[0]:.2f} (other processes competing for the cores distort (a) and (c))")
    print(f"robot: {label}; {n} envs; {args.threads} threads; FT; frame skip {config.frame_skip}")

    # (a) the vectorised workbench env
    venv = VectorUnimalEnv([robot], n, task="ft", config=config, num_threads=args.threads)
    venv.reset(seed=0)
    rng = np.random.default_rng(0)
    lengths: list[float] = []

    def run_a(k: int = 50) -> int:
        for _ in range(k):
            _, _, _, _, info = venv.step(rng.uniform(-1.0, 1.0, (n, 24)))
            done = ~np.isnan(info["episode_length"])
            if done.any():
                lengths.extend(info["episode_length"][done].tolist())
        return k * n

    # (b) Gymnasium Ant-v5 x 16
    ant = gym.vector.SyncVectorEnv([lambda: gym.make("Ant-v5") for _ in range(n)])
    ant.reset(seed=0)
    ant.action_space.seed(0)

    def run_b(k: int = 20) -> int:
        for _ in range(k):
            ant.step(ant.action_space.sample())
        return k * n

    # (c) raw physics: the same model, 16 copies, open-loop rollout, same threads
    model = venv._sims[0].model
    datas = [mujoco.MjData(model) for _ in range(args.threads)]
    nstate = mujoco.mj_stateSize(model, mujoco.mjtState.mjSTATE_FULLPHYSICS)
    init = np.zeros((n, nstate))
    probe = mujoco.MjData(model)
    reset_rng = np.random.default_rng(1)
    for i in range(n):
        mujoco.mj_resetData(model, probe)
        probe.qpos[:] = model.qpos0 + reset_rng.uniform(-0.005, 0.005, model.nq)
        probe.qvel[:] = reset_rng.uniform(-0.005, 0.005, model.nv)
        mujoco.mj_getState(model, probe, init[i], mujoco.mjtState.mjSTATE_FULLPHYSICS)
    # (c) rolls out episodes as long as (a)'s: physics costs differ between a robot that
    # is falling and one that lies on the floor, so the limit is taken on the same mix.
    for _ in range(20):
        run_a()
    env_steps_per_call = max(1, int(round(float(np.mean(lengths))))) if lengths else 50
    control = np.repeat(
        reset_rng.uniform(-1.0, 1.0, (n, env_steps_per_call, 1, model.nu)), config.frame_skip, axis=2
    ).reshape(n, env_steps_per_call * config.frame_skip, model.nu)
    roller = mujoco.rollout.Rollout(nthread=args.threads)
    nsub = env_steps_per_call * config.frame_skip
    state_out = np.empty((n, nsub, nstate))
    sensor_out = np.empty((n, nsub, model.nsensordata))

    def run_c() -> int:
        roller.rollout(
            [model] * n, datas, init, control, state=state_out, sensordata=sensor_out
        )
        return n * env_steps_per_call

    for fn in (run_a, run_b, run_c):  # warm-up
        fn()
    rates: dict[str, list[float]] = {"a": [], "b": [], "c": []}
    for _ in range(args.rounds):
        for key, fn in (("a", run_a), ("b", run_b), ("c", run_c)):
            rates[key].append(timed(fn, args.seconds))
    best = {key: float(np.median(values)) for key, values in rates.items()}
    spread = {key: (min(values), max(values)) for key, values in rates.items()}
    print(f"{args.rounds} rounds of {args.seconds:g} s windows; min..max per figure: "
          + ", ".join(f"{k} {lo:.0f}..{hi:.0f}" for k, (lo, hi) in spread.items()))
    roller.close()
    venv.close()
    ant.close()
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    mean_len = float(np.mean(lengths)) if lengths else float("nan")
    print(f"mean episode length in (a): {mean_len:.1f} steps ({len(lengths)} episodes); (c) rolls out {env_steps_per_call}-step episodes")
    print(f"(a) VectorUnimalEnv x{n} ({args.threads} threads): {best['a']:.0f} env steps/s")
    print(f"(b) Gymnasium Ant-v5 SyncVectorEnv x{n}: {best['b']:.0f} env steps/s")
    print(f"(c) raw physics, mujoco.rollout x{n} ({args.threads} threads, {config.frame_skip} substeps/step): {best['c']:.0f} env steps/s")
    print(f"speedup_vs_ant: {best['a'] / best['b']:.2f}")
    print(f"fraction_of_physics_limit: {best['a'] / best['c']:.3f}")


if __name__ == "__main__":
    main()
