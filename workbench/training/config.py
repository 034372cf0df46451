"""Every setting of a PPO teacher run, in one typed dataclass.

CleanRL style: one flat, frozen dataclass whose fields are documented in place.
Named configurations (``paper-ft``, ``workbench-ft``, ...) are plain instances;
``get_training_config(name, **overrides)`` returns one with fields replaced.
The whole dataclass is written to ``RUN_DIR/config.json`` at the start of a run
and read back on ``--resume``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class PPOConfig:
    """One PPO teacher run. Every field is a setting; nothing is hidden elsewhere."""

    # --- what is trained, on what ------------------------------------------------------------
    name: str = "custom"
    """Name of this configuration (informational; written to config.json)."""
    policy: str = "modumorph"
    """Model method for ``workbench.models.get_model_config``: modumorph, metamorph, hyperdistill, mlp, ..."""
    model: str = "workbench-ft"
    """Named model size for ``workbench.models.get_model_config(model, policy)``."""
    model_overrides: dict[str, Any] = field(default_factory=dict)
    """Fields replaced in the named actor configuration (e.g. ``{"d_model": 32}`` for tiny tests)."""
    critic_overrides: dict[str, Any] = field(default_factory=dict)
    """Fields replaced in the named critic configuration (``get_model_config(model, "critic")``)."""
    task: str = "ft"
    """Environment task: ft (flat terrain), vt (variable terrain) or obstacle."""
    robots: str = "generated-train"
    """Robot set for ``workbench.morphology.load_robots``: a suite name, a directory or an XML file."""
    max_robots: int | None = None
    """Train on the first ``max_robots`` robots of the set only (None: all of them)."""
    init_policy: str | None = None
    """Checkpoint whose actor weights and observation statistics start the run (the warm start, e.g. the
    ``student.pt`` of ``workbench warm-start``); it must have the run's actor architecture (the action std
    may differ: the run keeps its own). None: random."""
    critic_warmup_iterations: int = 0
    """First iterations in which only the critic learns: a warm-started actor is not pushed around by the
    advantages of a still-random value function."""

    # --- rollout ----------------------------------------------------------------------------------
    num_envs: int = 16
    """Parallel environments in the vector env (one robot each at a time)."""
    num_steps: int = 256
    """Rollout length per environment per iteration; batch = num_envs * num_steps samples."""
    total_steps: int = 10_000_000
    """Environment steps (summed over envs) of the whole run; the run stops at the first iteration boundary past it."""

    # --- PPO update -------------------------------------------------------------------------------
    epochs: int = 4
    """Passes over each iteration's batch (stopped early by ``target_kl``)."""
    minibatch_size: int = 1024
    """Samples per gradient step."""
    lr: float = 3e-4
    """Peak Adam learning rate."""
    actor_lr_scale: float = 1.0
    """The actor learns at ``lr * actor_lr_scale``, the critic at ``lr``. A warm-started actor needs far
    smaller steps than a critic that starts from scratch: with 3e-5 for both, the wide ModuMorph's
    imitation policy (action std 0.2) hit the ``target_kl`` stop within the first epoch of most updates
    and lost a third of its return in 1.2 M steps (``checkpoints/experiments/ppo-fine-tune-wide/``)."""
    lr_warmup_fraction: float = 0.02
    """Fraction of the run's iterations over which the learning rate rises linearly from 0 to ``lr``."""
    lr_final_fraction: float = 0.0
    """Cosine decay ends at ``lr * lr_final_fraction`` on the last iteration."""
    adam_eps: float = 1e-5
    """Adam epsilon."""
    weight_decay: float = 0.0
    """Adam (L2) weight decay."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    clip_coef: float = 0.2
    """PPO ratio clip epsilon."""
    value_clip_coef: float | None = 0.2
    """Clip of the value change around the rollout value (None: no value clipping)."""
    value_coef: float = 0.5
    """Weight of the value loss in the total loss."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip."""
    target_kl: float | None = 0.05
    """Stop an iteration's remaining epochs once the approx KL of a minibatch exceeds this (None: never)."""
    normalize_advantages: bool = True
    """Normalise advantages to zero mean / unit std over each minibatch."""

    # --- normalisation ----------------------------------------------------------------------------
    normalize_observations: bool = True
    """Update the model's running observation normaliser with each rollout (frozen otherwise)."""
    scale_rewards: bool = True
    """Divide rewards by the running std of the discounted return (VecNormalize style)."""
    reward_clip: float = 10.0
    """Clip of the scaled reward (ignored when ``scale_rewards`` is False)."""

    # --- robot sampling ---------------------------------------------------------------------------
    robot_sampling: str = "balanced"
    """'balanced': p(robot) proportional to 1000 / moving average of its episode length; 'uniform'; 'fixed' (env i -> robot i % n)."""
    sampler_uniform_iterations: int = 2
    """Iterations of uniform sampling before the balanced probabilities take over."""
    sampler_ema: float = 0.2
    """Weight of a newly finished episode in a robot's moving-average episode length."""

    # --- machine ----------------------------------------------------------------------------------
    seed: int = 0
    """Seed of everything: model init, action noise, minibatch order, env resets, robot draws."""
    device: str = "cpu"
    """Learner device: cpu or cuda (simulation always runs on CPU)."""
    sim_threads: int | None = None
    """Threads of the vector env's physics (None: the env's default)."""
    rollout_threads: int = 1
    """torch threads while acting during rollouts (small batches run fastest single-threaded)."""
    learner_threads: int = 1
    """torch threads during the PPO update. One suits small models: two made ``workbench-ft`` PPO (then
    sequential, 4 epochs x 256) about 1.5x slower on a 2-core CPU (``benchmarks/ppo_throughput.py --set
    learner_threads=2``)."""
    learner_bf16: bool = False
    """Run the learner's forward/backward matmuls in bfloat16 (torch.autocast; losses stay float32).
    ~1.7x faster on CPUs with AVX512-BF16; acting and evaluation stay float32."""
    overlap_rollout: bool = False
    """Collect the next rollout while the learner updates on the previous one (a learner thread beside
    the simulation), so both cores work all the time. The data are then one update old: the loss is
    decoupled PPO (``training/ppo.py``), clipped around the learner's current policy and weighted by
    the behaviour policy's probabilities. The last rollout of a run is learned from only if the run is
    extended (``--resume`` with more steps); checkpoint.pt holds it meanwhile (so it is larger). Needs ``rollout_threads == learner_threads`` (the torch
    thread count is one per process)."""
    share_context: bool = True
    """Compute the actor's morphology-only part (ModuMorph hypernetworks, fixed attention) once per robot
    per batch instead of once per sample (same function, much cheaper; see training/context_sharing.py)."""

    # --- bookkeeping ------------------------------------------------------------------------------
    checkpoint_interval_s: float = 300.0
    """Seconds between checkpoints (written at iteration boundaries); one is always written at the end."""
    recent_episodes: int = 100
    """Finished episodes averaged for the progress bar's 'recent return'."""

    # ------------------------------------------------------------------------------------------
    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def num_iterations(self) -> int:
        return max(1, -(-self.total_steps // self.batch_size))

    def validate(self) -> "PPOConfig":
        """Raise WorkbenchError for settings that cannot run."""
        problems = []
        if self.num_envs < 1 or self.num_steps < 1:
            problems.append("num_envs and num_steps must be >= 1")
        if self.minibatch_size < 1 or self.minibatch_size > self.batch_size:
            problems.append(f"minibatch_size must be in [1, num_envs*num_steps={self.batch_size}]")
        if self.epochs < 1:
            problems.append("epochs must be >= 1")
        if self.total_steps < 1:
            problems.append("total_steps must be >= 1")
        if self.robot_sampling not in ("balanced", "uniform", "fixed"):
            problems.append("robot_sampling must be balanced, uniform or fixed")
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            problems.append("device must be cpu or cuda")
        if self.actor_lr_scale <= 0.0:
            problems.append("actor_lr_scale must be > 0")
        if not 0.0 <= self.lr_warmup_fraction < 1.0:
            problems.append("lr_warmup_fraction must be in [0, 1)")
        if self.overlap_rollout and self.rollout_threads != self.learner_threads:
            problems.append("overlap_rollout needs rollout_threads == learner_threads")
        if problems:
            raise WorkbenchError(f"invalid training configuration {self.name!r}: " + "; ".join(problems))
        return self

    def replace(self, **changes: Any) -> "PPOConfig":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise WorkbenchError(f"unknown training setting(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PPOConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise WorkbenchError(f"unknown training setting(s): {', '.join(sorted(unknown))}")
        return cls(**data)

    def save_json(self, path: str | Path) -> None:
        from workbench.files import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load_json(cls, path: str | Path) -> "PPOConfig":
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise WorkbenchError("no such file", path) from None
        except (OSError, ValueError) as error:
            raise WorkbenchError(f"not a readable configuration ({error.__class__.__name__})", path) from None
        if not isinstance(data, dict):
            raise WorkbenchError("not a configuration object", path)
        return cls.from_dict(data)


# Published scale (MetaMorph / ModuMorph / HyperDistill papers): for GPU machines.
PAPER_FT = PPOConfig(
    name="paper-ft",
    policy="modumorph",
    model="paper-ft",
    task="ft",
    robots="generated-train",
    num_envs=32,
    num_steps=2560,
    total_steps=100_000_000,
    epochs=8,
    minibatch_size=5120,
    lr=3e-4,
    lr_warmup_fraction=0.01,
    target_kl=0.05,
    sampler_uniform_iterations=1,
    rollout_threads=4,
    learner_threads=8,
)

# Sized for the 2-core CPU of the workbench machine (a few hours of training, resumed across
# sittings). The ModuMorph learner costs ~110-150 us per sample and epoch on one core even with the
# per-robot context sharing, so it took most of the time (74% in benchmarks/ppo_throughput.py with
# 4 epochs x 256, the setting of every FT teacher run before session 9). Now the rollout runs on one
# core (one physics thread) while the learner updates on the previous rollout on the other
# (overlap_rollout), and the learner, still the slower side, does 2 epochs x 512 (16 Adam steps per
# rollout instead of 64). In two-seed 15-minute A/Bs on the 12 teacher robots this learnt at least
# as much per minute as the old setting with 1.5-2.1x the samples
# (checkpoints/experiments/ppo-overlap-ab). Trimming the padded limb slots in every forward pass
# (the 12 teacher robots use 9 of the 12) gave 12% more samples/s
# (checkpoints/experiments/ppo-throughput-s10). More Adam steps per sample learn more per sample (on
# one published robot with an MLP, 10 x 64 learnt 1.8-2.6x more than 4 x 256 by 0.5-0.75M steps),
# but on this machine the ModuMorph learner cannot afford them. lr 3e-4 is the reference's; the KL early
# stop cut 19% of the first teacher's updates short. bfloat16 learner matmuls: ~1.3x more samples/s,
# same learning curve on a single-robot check. Robots: the first 12 of generated-train in the
# recommended command (--max-robots 12).
WORKBENCH_FT = PPOConfig(
    name="workbench-ft",
    policy="modumorph",
    model="workbench-ft",
    task="ft",
    robots="generated-train",
    num_envs=32,
    num_steps=128,
    total_steps=50_000_000,
    epochs=2,
    minibatch_size=512,
    lr=3e-4,
    lr_warmup_fraction=0.01,
    target_kl=0.05,
    sampler_uniform_iterations=5,
    sim_threads=1,
    rollout_threads=1,
    learner_threads=1,
    overlap_rollout=True,
    learner_bf16=True,
)

# One robot, one MLP: the per-robot specialists of the warm start (``workbench train-specialists``).
# The single-robot diagnostic's settings: 10 x 64 Adam steps per 2,048-sample batch learnt 1.8-2.6x more
# per sample than 4 x 256 on a published robot, and an MLP can afford them. One thread each for the
# physics and the learner, so two specialists train side by side on this 2-core machine.
WORKBENCH_SPECIALIST = WORKBENCH_FT.replace(
    name="workbench-specialist",
    policy="mlp",
    num_envs=16,
    total_steps=1_000_000,
    epochs=10,
    minibatch_size=64,
    sim_threads=1,
    learner_threads=1,
    overlap_rollout=False,  # specialists train side by side, one core each
)

# The same specialist at a quarter of the Adam steps: 10 epochs x 256 instead of x 64. On one core the
# learner took ~85% of a specialist's time (benchmarks/specialist_throughput.py), and an Adam step's
# cost barely grows with the minibatch at this size, so each env step costs about half.
WORKBENCH_SPECIALIST_V2 = WORKBENCH_SPECIALIST.replace(name="workbench-specialist-v2", minibatch_size=256)

NAMED_CONFIGS: dict[str, PPOConfig] = {
    c.name: c for c in (PAPER_FT, WORKBENCH_FT, WORKBENCH_SPECIALIST, WORKBENCH_SPECIALIST_V2)
}


# Settings that do not change a run's past: the only ones a resumed run may change.
RESUMABLE_FIELDS = frozenset({"total_steps", "device", "checkpoint_interval_s"})


def resumed_config(saved: PPOConfig, changes: dict[str, Any], where: str | Path) -> PPOConfig:
    """``saved`` (a run's config.json) with ``changes`` applied; WorkbenchError naming ``where`` if a
    change touches anything but :data:`RESUMABLE_FIELDS`."""
    current = saved.to_dict()
    conflicting = sorted(k for k, v in changes.items() if k not in RESUMABLE_FIELDS and current.get(k) != v)
    if conflicting:
        raise WorkbenchError(f"--resume keeps the run's configuration; cannot change {', '.join(conflicting)}", where)
    return saved.replace(**{k: v for k, v in changes.items() if k in RESUMABLE_FIELDS}).validate()


def get_training_config(name: str, **overrides: Any) -> PPOConfig:
    """A named configuration with some fields replaced (``None`` too: ``sim_threads=None`` is the env's
    default); WorkbenchError for unknown names."""
    try:
        base = NAMED_CONFIGS[name]
    except KeyError:
        raise WorkbenchError(
            f"unknown training configuration {name!r} (known: {', '.join(sorted(NAMED_CONFIGS))})"
        ) from None
    return base.replace(**overrides).validate()
