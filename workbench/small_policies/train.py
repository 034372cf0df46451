"""SAC training of either actor (CleanRL-style loop), with metrics.csv, atomic checkpoints, exact resume.

Checkpoints are taken at episode ends only (Gymnasium cannot restore a mid-episode simulator state
exactly), and each episode is reset with the seed ``seed * 1_000_003 + episode``, so a run killed at any
moment and resumed from its last checkpoint repeats exactly what the uninterrupted run did (CPU, same
seed). A run stops at the first episode end at or after ``total_steps``.

Files of ``RUN``: ``config.json`` (written first), ``metrics.csv`` (one row per episode),
``checkpoint.pt`` (everything to continue, replay buffer included) and ``policy.pt`` (actor weights +
config + version: what sweep/select/export read).
"""

from __future__ import annotations

import dataclasses
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from workbench.errors import WorkbenchError
from workbench.files import atomic_write_bytes, atomic_write_text
from workbench.metrics_csv import MetricsCSV
from workbench.small_policies import envs
from workbench.small_policies.actors import Actor
from workbench.small_policies.replay import ReplayBuffer
from workbench.small_policies.sac import QNetwork, SACConfig, update
from workbench.training.checkpoint import capture_rng_state, from_storable, restore_rng_state, to_storable

RUN_FORMAT, POLICY_FORMAT, VERSION = "workbench-ghp-run", "workbench-ghp-policy", 1
METRICS = ("episode", "step", "return", "length", "architecture", "q_loss", "actor_loss", "alpha", "steps_per_s")


@dataclass(frozen=True)
class TrainConfig:
    """A training run: task, actor kind, length, seed, SAC hyperparameters."""

    env: str = "Hopper-v5"           # Gymnasium id or UNIMAL robot name / XML path (task FT)
    actor: str = "ghp"               # "ghp" (graph hyper policy) or "mlp" (256x256 baseline)
    total_steps: int = 300_000       # env steps (the run ends at the first episode end at or after it)
    seed: int = 0
    checkpoint_every: int = 10_000   # env steps between checkpoints (taken at the next episode end)
    buffer_float16: bool = False     # store observations/actions as float16 (a 4x smaller carried buffer)
    sac: SACConfig = field(default_factory=SACConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        return cls(**{**d, "sac": SACConfig(**d["sac"])})


def check_config(cfg: TrainConfig) -> None:
    if cfg.actor not in ("ghp", "mlp"):
        raise WorkbenchError(f"unknown actor {cfg.actor!r} (ghp or mlp)")
    if cfg.total_steps < 1:
        raise WorkbenchError("--total-steps must be positive")


class Trainer:
    def __init__(self, cfg: TrainConfig) -> None:
        check_config(cfg)
        self.cfg = cfg
        torch.manual_seed(cfg.seed)
        self.env = envs.make(cfg.env)
        obs_dim, act_dim = int(self.env.observation_space.shape[0]), int(self.env.action_space.shape[0])
        self.low = self.env.action_space.low.astype(np.float64)
        self.high = self.env.action_space.high.astype(np.float64)
        s = cfg.sac
        self.actor = Actor(cfg.actor, obs_dim, act_dim, self.low, self.high, s.num_archs, s.resample_every)
        self.qf1, self.qf2 = QNetwork(obs_dim, act_dim), QNetwork(obs_dim, act_dim)
        self.qf1_t, self.qf2_t = QNetwork(obs_dim, act_dim), QNetwork(obs_dim, act_dim)
        self.qf1_t.load_state_dict(self.qf1.state_dict())
        self.qf2_t.load_state_dict(self.qf2.state_dict())
        self.log_alpha = torch.tensor(float(np.log(s.alpha)), requires_grad=True)
        self.target_entropy = -float(act_dim)
        self.opts = {"q": torch.optim.Adam(list(self.qf1.parameters()) + list(self.qf2.parameters()), lr=s.q_lr),
                     "actor": torch.optim.Adam(self.actor.parameters(), lr=s.policy_lr),
                     "alpha": torch.optim.Adam([self.log_alpha], lr=s.q_lr)}
        self.buffer = ReplayBuffer(s.buffer_size, obs_dim, act_dim, cfg.buffer_float16)
        self.rng = np.random.default_rng(cfg.seed)
        self.step, self.updates, self.episode = 0, 0, 0

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        nets = ("actor", "qf1", "qf2", "qf1_t", "qf2_t")
        return {"config": self.cfg.to_dict(), "step": self.step, "updates": self.updates, "episode": self.episode,
                "nets": {n: getattr(self, n).state_dict() for n in nets}, "log_alpha": self.log_alpha.detach().clone(),
                "opts": {k: o.state_dict() for k, o in self.opts.items()}, "buffer": self.buffer.state_dict(),
                "rng": self.rng.bit_generator.state, "global_rng": capture_rng_state(), "archs": self.actor.archs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step, self.updates, self.episode = state["step"], state["updates"], state["episode"]
        for n, sd in state["nets"].items():
            getattr(self, n).load_state_dict(sd)
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        for k, sd in state["opts"].items():
            self.opts[k].load_state_dict(sd)
        self.buffer.load_state_dict(state["buffer"])
        self.rng.bit_generator.state = state["rng"]
        restore_rng_state(state["global_rng"])
        self.actor.archs = [tuple(a) for a in state["archs"]]

    # ------------------------------------------------------------------ the loop
    def run(self, out: Path, resume: bool = False, progress: bool = True) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        if resume:
            state = load_state(out / "checkpoint.pt", RUN_FORMAT)
            if {**state["config"], "total_steps": 0} != {**self.cfg.to_dict(), "total_steps": 0}:
                raise WorkbenchError("--resume with a different configuration than the run's config.json", out)
            self.load_state_dict(state)
        else:
            atomic_write_text(out / "config.json", json.dumps(self.cfg.to_dict(), indent=2) + "\n")
        metrics = MetricsCSV(out / "metrics.csv", METRICS, "episode", resume_at=self.episode if resume else None)
        cfg, s = self.cfg, self.cfg.sac
        last_checkpoint = self.step
        bar = tqdm(total=cfg.total_steps, initial=min(self.step, cfg.total_steps), disable=not progress,
                   desc=f"ghp train {cfg.actor} {cfg.env}", unit="step")
        while self.step < cfg.total_steps:
            t0, start = time.perf_counter(), self.step
            obs, _ = self.env.reset(seed=cfg.seed * 1_000_003 + self.episode)
            self.actor.resample(self.rng)  # a new architecture set at every episode start
            arch, ret, length, losses, done = self.actor.archs[0], 0.0, 0, {}, False
            while not done:
                if self.step < s.learning_starts:
                    action = self.rng.uniform(self.low, self.high)
                else:
                    with torch.no_grad():
                        a, _, _ = self.actor(torch.as_tensor(obs, dtype=torch.float32)[None])
                    action = a[0].numpy().astype(np.float64)
                nxt, reward, terminated, truncated, _ = self.env.step(action)
                self.buffer.add(obs, action, float(reward), nxt, bool(terminated))
                obs, ret, length, done = nxt, ret + float(reward), length + 1, terminated or truncated
                self.step += 1
                if self.step > s.learning_starts:
                    batch = {k: torch.from_numpy(v) for k, v in self.buffer.sample(s.batch_size, self.rng).items()}
                    losses = update(self.updates, batch, self.actor, self.qf1, self.qf2, self.qf1_t, self.qf2_t,
                                    self.log_alpha, self.opts, s, self.target_entropy)
                    self.updates += 1
                    if self.updates % s.resample_every == 0:
                        self.actor.resample(self.rng)
            self.episode += 1
            bar.update(min(self.step, cfg.total_steps) - min(start, cfg.total_steps))
            metrics.write({"episode": self.episode, "step": self.step, "return": ret, "length": length,
                           "architecture": "x".join(map(str, arch)), "q_loss": losses.get("q_loss"),
                           "actor_loss": losses.get("actor_loss"), "alpha": losses.get("alpha"),
                           "steps_per_s": length / max(time.perf_counter() - t0, 1e-9)})
            if self.step - last_checkpoint >= cfg.checkpoint_every or self.step >= cfg.total_steps:
                save_state(out / "checkpoint.pt", RUN_FORMAT, self.state_dict())
                save_policy(out / "policy.pt", self)
                last_checkpoint = self.step
        bar.close()
        return out


# ---------------------------------------------------------------------------- files
def save_state(path: Path, fmt: str, state: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    torch.save({"format": fmt, "version": VERSION, "state": to_storable(state)}, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_state(path: Path, fmt: str) -> dict[str, Any]:
    """A missing, damaged or foreign file is a one-line WorkbenchError."""
    if not path.is_file():
        raise WorkbenchError("no such file", path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for damaged files
        raise WorkbenchError(f"cannot be read ({error.__class__.__name__})", path) from None
    if not isinstance(payload, dict) or payload.get("format") != fmt or payload.get("version") != VERSION:
        raise WorkbenchError(f"not a {fmt} file of version {VERSION}", path)
    return from_storable(payload["state"])


def save_policy(path: Path, trainer: Trainer) -> None:
    a = trainer.actor
    save_state(path, POLICY_FORMAT, {"config": trainer.cfg.to_dict(), "obs_dim": a.obs_dim, "act_dim": a.act_dim,
                                     "low": trainer.low, "high": trainer.high, "step": trainer.step,
                                     "actor": a.state_dict()})


def load_policy(run: str | Path) -> tuple[Actor, TrainConfig]:
    """The trained actor of ``RUN`` (its ``policy.pt``) and the run's config."""
    run = Path(run)
    state = load_state(run / "policy.pt" if run.is_dir() else run, POLICY_FORMAT)
    cfg = TrainConfig.from_dict(state["config"])
    actor = Actor(cfg.actor, state["obs_dim"], state["act_dim"], state["low"], state["high"],
                  cfg.sac.num_archs, cfg.sac.resample_every)
    actor.load_state_dict(state["actor"])
    return actor.eval(), cfg
