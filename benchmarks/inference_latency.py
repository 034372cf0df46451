"""Per-step inference latency at batch 1 on CPU: the ModuMorph teacher against a generated MLP.

Both models are the ``paper-ft`` configurations (or checkpoints given with --teacher / --student) and
run on the same observations (a built-in robot's FT episode with random actions; synthetic ones if the
environment cannot be built). Measured, each as the median over rounds of the mean per-step time:

- teacher (full): ``TransformerPolicy.forward`` on the observation, its hypernetworks run every step;
- teacher (context cached): the context-only part (ModuMorph's hypernetwork outputs and fixed
  attention weights) computed once per robot, as the paper's FLOP count assumes;
- HyperDistill HN: the hypernetwork policy itself (generating the MLP every step);
- generated MLP, torch: the same arrays as torch tensors;
- generated MLP, numpy: ``workbench.deploy`` (what a robot runs).

torch uses one thread and ``torch.inference_mode`` (fair for batch 1); observations are converted to
tensors beforehand, so conversion is not charged to the torch paths. The last line is
``mlp_speedup_vs_teacher: X`` = teacher (context cached) / generated MLP (numpy). Not a test.

    python benchmarks/inference_latency.py [--steps 200] [--rounds 5] [--robot gen-train-000]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("MUJOCO_GL", "egl")

import torch  # noqa: E402

from workbench.analysis.flops import count_policy  # noqa: E402
from workbench.models import build_policy, get_model_config, load_checkpoint  # noqa: E402
from workbench.models.synthetic import synthetic_obs  # noqa: E402


def collect_observations(robot: str, steps: int, seed: int = 0) -> tuple[list[dict], str]:
    try:
        from workbench.envs import make_env

        env = make_env(robot, task="ft")
        rng = np.random.default_rng(seed)
        obs, _ = env.reset(seed=seed)
        rows = [obs]
        while len(rows) < steps:
            obs, _, terminated, truncated, _ = env.step(rng.uniform(-1, 1, 24).astype(np.float32))
            rows.append(obs)
            if terminated or truncated:
                obs, _ = env.reset()
        env.close()
        return rows, f"{robot} (FT episode, random actions)"
    except Exception as error:  # noqa: BLE001 - fall back to synthetic observations
        synth = synthetic_obs(steps, "ft", num_limbs=9, seed=seed)
        for key in ("context", "limb_mask", "action_mask"):
            synth[key][:] = synth[key][0]
        return [{k: v[i].numpy() for k, v in synth.items()} for i in range(steps)], \
            f"synthetic ({type(error).__name__}: {error})"


def time_per_step(fn, inputs: list, rounds: int) -> float:
    """Median over rounds of the mean seconds per call (after one warm-up pass)."""
    for x in inputs[:20]:
        fn(x)
    results = []
    for _ in range(rounds):
        start = time.perf_counter()
        for x in inputs:
            fn(x)
        results.append((time.perf_counter() - start) / len(inputs))
    return statistics.median(results)


class TorchMLP:
    """The generated MLP's arrays as torch tensors, same computation as workbench.deploy."""

    def __init__(self, mlp) -> None:
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
        self.index = t(mlp._flat_index)
        self.mean, self.inv_std = t(mlp._mean), t(mlp._inv_std)
        self.clip = float(mlp._clip)
        self.w_in, self.b_in = t(mlp._w_in), t(mlp._b_in)
        self.hidden = [(t(w), t(b)) for w, b, _ in mlp._hidden]
        self.w_out, self.b_out = t(mlp._w_out), t(mlp._b_out)

    def __call__(self, obs: dict) -> torch.Tensor:
        x = obs["proprioceptive"].reshape(-1)[self.index]
        x = torch.clamp((x - self.mean) * self.inv_std, -self.clip, self.clip)
        h = torch.relu(torch.addmv(self.b_in, self.w_in.t(), x))
        for w, b in self.hidden:
            h = torch.relu(torch.addmv(b, w.t(), h))
        return torch.addmv(self.b_out, self.w_out.t(), h)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="distinct observations (default 200)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--robot", default="gen-train-000")
    parser.add_argument("--teacher", type=Path, default=None, help="ModuMorph checkpoint (default: paper-ft, random)")
    parser.add_argument("--student", type=Path, default=None, help="HyperDistill checkpoint (default: paper-ft, random)")
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    torch.manual_seed(0)
    rows, source = collect_observations(args.robot, args.steps)
    batch = {k: torch.as_tensor(np.stack([r[k] for r in rows])) for k in rows[0]}

    teacher = (load_checkpoint(args.teacher).policy if args.teacher
               else build_policy(get_model_config("paper-ft", "modumorph")))
    student = (load_checkpoint(args.student).policy if args.student
               else build_policy(get_model_config("paper-ft", "hyperdistill")))
    for model in (teacher, student):
        if not (args.teacher and model is teacher) and not (args.student and model is student):
            model.update_normalizer(batch)  # plausible statistics for random weights
        model.eval()

    torch_obs = [{k: torch.as_tensor(v)[None] for k, v in r.items()} for r in rows]
    with torch.inference_mode():
        cache = teacher.context_cache(torch_obs[0])
        mlp = student.generate_from_observation(rows[0], name=args.robot)
        torch_mlp = TorchMLP(mlp)
        single = [{k: torch.as_tensor(v) for k, v in r.items()} for r in rows]

        # Sanity: all paths agree with their reference.
        ref_teacher = teacher(batch)
        cached = torch.cat([teacher(o, cache) for o in torch_obs[:10]])
        assert torch.allclose(cached, ref_teacher[:10], atol=1e-4), "cached teacher differs"
        ref_student = student(batch).numpy()
        assert np.abs(mlp.act({k: v.numpy() for k, v in batch.items()}) - ref_student).max() < 1e-5
        assert np.abs(torch.stack([torch_mlp(o) for o in single[:10]]).numpy() - ref_student[:10]).max() < 1e-5

        timings = {
            "teacher_full": time_per_step(lambda o: teacher(o), torch_obs, args.rounds),
            "teacher_cached": time_per_step(lambda o: teacher(o, cache), torch_obs, args.rounds),
            "hyperdistill_hn": time_per_step(lambda o: student(o), torch_obs, args.rounds),
            "mlp_torch": time_per_step(torch_mlp, single, args.rounds),
        }
    timings["mlp_numpy"] = time_per_step(mlp.act, rows, args.rounds)

    t_flops = count_policy(teacher.config).flops
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()} "
          f"torch {torch.__version__} numpy {np.__version__}, torch threads {torch.get_num_threads()}")
    print(f"observations: {len(rows)} from {source}")
    print(f"teacher: paper-ft ModuMorph, {count_policy(teacher.config).params:,} params, {t_flops:,} FLOPs/step")
    print(f"student: generated MLP of paper-ft HyperDistill, {mlp.num_parameters:,} params, "
          f"{mlp.flops_per_step:,} FLOPs/step (this robot; FLOP ratio {t_flops / mlp.flops_per_step:.0f})")
    labels = {
        "teacher_full": "teacher ModuMorph (hypernetworks every step)",
        "teacher_cached": "teacher ModuMorph (context cached)",
        "hyperdistill_hn": "HyperDistill HN (generating every step)",
        "mlp_torch": "generated MLP, torch",
        "mlp_numpy": "generated MLP, numpy (workbench.deploy)",
    }
    for key, label in labels.items():
        print(f"{label:48s} {timings[key] * 1e6:10.1f} us/step")
    print(f"mlp_torch_speedup_vs_teacher: {timings['teacher_cached'] / timings['mlp_torch']:.1f}")
    print(f"mlp_speedup_vs_teacher_full: {timings['teacher_full'] / timings['mlp_numpy']:.1f}")
    print(f"mlp_speedup_vs_teacher: {timings['teacher_cached'] / timings['mlp_numpy']:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
