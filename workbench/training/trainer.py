"""Multi-robot PPO for a universal (ModuMorph, MetaMorph, HN, MLP) actor-critic.

The algorithm, top to bottom (one iteration = ``PPOTrainer.iteration_step``):

1. Rollout: ``num_steps`` steps of ``num_envs`` environments (each running one of
   the training robots, drawn at every auto-reset from the robot sampler's
   probabilities). Actions are sampled from a Gaussian around the model's mean with
   the model's fixed std; log-probabilities count the real action slots only. The
   model acts under ``torch.inference_mode`` with its observation normaliser frozen.
   Rewards are scaled by the running std of the discounted return. Where an episode
   was truncated (time limit) the value of ``info["final_obs"]`` is kept for the
   bootstrap; where it terminated (fall) there is none.
2. GAE (gamma, lambda) gives advantages and value targets.
3. PPO update: ``epochs`` passes of shuffled minibatches; clipped surrogate plus
   clipped value loss, advantages normalised per minibatch, Adam with global
   grad-norm clip. A minibatch whose approx KL exceeds ``target_kl`` is not applied
   and ends the iteration's update (KL early stop). Learning rate: linear warm-up
   then cosine decay, set per iteration.
4. The observation normaliser is updated with the rollout's observations (so the
   rollout and the update above saw the same normalisation), the robot sampler with
   the finished episodes' lengths.

Everything random draws from generators whose states are saved in the checkpoint,
so a run that is interrupted and resumed ends with exactly the weights of one that
never stopped (same seed, CPU).
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from workbench.errors import WorkbenchError
from workbench.training.checkpoint import (
    capture_rng_state,
    load_run_checkpoint,
    restore_rng_state,
    save_run_checkpoint,
)
from workbench.training.config import PPOConfig
from workbench.training.context_sharing import ContextSharing, RolloutContextCache
from workbench.training.metrics import MetricsWriter
from workbench.training.normalization import ReturnScaler
from workbench.training.ppo import compute_gae, explained_variance, gaussian_log_prob, normalize_advantages, ppo_loss
from workbench.training.sampler import RobotSampler
from workbench.training.schedule import cosine_with_warmup

CHECKPOINT_FILE = "checkpoint.pt"
POLICY_FILE = "policy.pt"
CONFIG_FILE = "config.json"
ACTION_MASK = "action_mask"


# ---------------------------------------------------------------------------------------------
# Building blocks from the other packages (imported lazily so this module loads on its own).
# ---------------------------------------------------------------------------------------------


def load_training_robots(config: PPOConfig) -> list:
    from workbench.morphology import load_robots

    robots = list(load_robots(config.robots))
    if config.max_robots is not None:
        robots = robots[: config.max_robots]
    if not robots:
        raise WorkbenchError(f"no robots in {config.robots!r}")
    return robots


def build_env(config: PPOConfig, robots: list):
    from workbench.envs import VectorUnimalEnv

    return VectorUnimalEnv(robots, config.num_envs, task=config.task, num_threads=config.sim_threads)


def build_model(config: PPOConfig) -> torch.nn.Module:
    import dataclasses

    from workbench.models import build_actor_critic, get_model_config

    actor_config = get_model_config(config.model, config.policy)
    critic_config = get_model_config(config.model, "critic")
    if actor_config.task != config.task:
        raise WorkbenchError(f"model configuration {config.model!r} is for task {actor_config.task!r}, not {config.task!r}")
    try:
        actor_config = dataclasses.replace(actor_config, **config.model_overrides)
        critic_config = dataclasses.replace(critic_config, **config.critic_overrides)
    except TypeError as error:
        raise WorkbenchError(f"invalid model override: {error}") from None
    return build_actor_critic(actor_config, critic_config)


def obs_to_torch(obs: dict[str, np.ndarray], device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Batched numpy observation dict -> float32 torch tensors on ``device`` (shares memory on CPU)."""
    return {key: torch.as_tensor(np.asarray(value, dtype=np.float32), device=device) for key, value in obs.items()}


def model_action_std(model: torch.nn.Module) -> torch.Tensor:
    std = getattr(model, "action_std")
    return torch.as_tensor(std, dtype=torch.float32).detach()


@dataclass
class IterationStats:
    """What one iteration measured (one metrics.csv row)."""

    row: dict[str, Any]


class PPOTrainer:
    """Owns the env, the model, the optimiser and every piece of state a resume needs.

    Args:
        config: the run's settings.
        run_dir: where config.json, metrics.csv, checkpoint.pt and policy.pt go (None: nothing written).
        resume: load ``run_dir/checkpoint.pt`` and continue from it.
        robots, env_factory, model_factory: optional injections (tests, custom robot lists).
    """

    def __init__(
        self,
        config: PPOConfig,
        run_dir: str | Path | None = None,
        *,
        resume: bool = False,
        robots: list | None = None,
        env_factory: Callable[[PPOConfig, list], Any] | None = None,
        model_factory: Callable[[PPOConfig], torch.nn.Module] | None = None,
        tensorboard: bool = True,
    ) -> None:
        self.config = config.validate()
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.device = torch.device(config.device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise WorkbenchError("--device cuda was asked for but CUDA is not available")

        # Seed every generator before anything random happens (model init included).
        random.seed(config.seed)
        np.random.seed(config.seed % 2**32)
        torch.manual_seed(config.seed)
        self.generator = torch.Generator()  # action noise and minibatch order, always on CPU
        self.generator.manual_seed(config.seed + 1)

        self.robots = robots if robots is not None else load_training_robots(config)
        self.env = (env_factory or build_env)(config, self.robots)
        self.model = (model_factory or build_model)(config).to(self.device)
        self.action_std = model_action_std(self.model).to(self.device)
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=config.lr, eps=config.adam_eps, weight_decay=config.weight_decay
        )
        self.sampler = RobotSampler(
            len(self.robots),
            mode=config.robot_sampling,
            uniform_iterations=config.sampler_uniform_iterations,
            ema=config.sampler_ema,
        )
        self.return_scaler = ReturnScaler(config.num_envs, config.gamma, clip=config.reward_clip)

        self.iteration = 0  # iterations completed
        self.env_steps = 0
        self.wall_time = 0.0  # seconds of training, summed over sittings
        self.recent_returns: deque[float] = deque(maxlen=config.recent_episodes)
        self.recent_lengths: deque[float] = deque(maxlen=config.recent_episodes)

        self._apply_robot_probabilities()
        self.next_obs, _ = self.env.reset(seed=config.seed)
        self.sharing = ContextSharing(
            self.model, obs_to_torch(self.next_obs, self.device), enabled=config.share_context
        )
        self._rollout_cache = RolloutContextCache(self.sharing)

        if resume:
            if self.run_dir is None:
                raise WorkbenchError("resume needs a run directory")
            self.load_state_dict(load_run_checkpoint(self.run_dir / CHECKPOINT_FILE))
        self._metrics: MetricsWriter | None = None
        self._tensorboard = tensorboard

    # -----------------------------------------------------------------------------------------
    # 1. Rollout
    # -----------------------------------------------------------------------------------------
    def _apply_robot_probabilities(self) -> None:
        probabilities = self.sampler.probabilities(self.iteration)
        if probabilities is not None or self.config.robot_sampling == "fixed":
            self.env.set_robot_probabilities(probabilities)

    def _forward(self, obs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Learner forward pass: (mean (B, 24), value (B,)), morphology-only work once per robot."""
        mean, value = self.sharing.forward(obs)
        return mean, value.reshape(-1)

    def _act_forward(self, obs_np: dict[str, np.ndarray], all_envs: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Rollout forward pass (inference mode), reusing each robot's context cache within the rollout."""
        obs = obs_to_torch(obs_np, self.device)
        if all_envs:
            mean, value = self._rollout_cache.forward_envs(obs_np, obs)
        else:
            mean, value = self._rollout_cache.forward(obs_np, obs)
        return mean.float().cpu(), value.reshape(-1).float().cpu()

    def collect_rollout(self) -> dict[str, Any]:
        """Step all envs ``num_steps`` times; returns the batch (tensors shaped (T, N, ...)) and timings."""
        cfg = self.config
        T, N = cfg.num_steps, cfg.num_envs
        torch.set_num_threads(cfg.rollout_threads)
        self.model.eval()
        self._rollout_cache.clear()  # the weights changed since the last rollout
        obs_buffers: dict[str, torch.Tensor] = {
            key: torch.empty((T, N, *np.shape(value)[1:]), dtype=torch.float32) for key, value in self.next_obs.items()
        }
        actions = torch.empty((T, N, np.shape(self.next_obs[ACTION_MASK])[1]), dtype=torch.float32)
        log_probs = torch.empty((T, N))
        values = torch.empty((T, N))
        next_values = torch.empty((T, N))
        rewards = torch.empty((T, N))
        terminated = torch.empty((T, N), dtype=torch.bool)
        dones = torch.empty((T, N), dtype=torch.bool)
        truncated = torch.zeros((T, N), dtype=torch.bool)  # done by the time limit, not by a fall
        truncation_values = torch.zeros((T, N))  # V(final_obs) there
        finished_returns: list[float] = []
        finished_lengths: list[float] = []
        sim_time = policy_time = 0.0

        for t in range(T):
            start = time.perf_counter()
            for key, value in self.next_obs.items():
                obs_buffers[key][t] = torch.from_numpy(np.asarray(value, dtype=np.float32))
            with torch.inference_mode():
                mean, value = self._act_forward(self.next_obs, all_envs=True)
                noise = torch.randn(mean.shape, generator=self.generator)
                action = mean + self.action_std.cpu() * noise
                log_probs[t] = gaussian_log_prob(mean, self.action_std.cpu(), action, obs_buffers[ACTION_MASK][t])
            actions[t] = action
            values[t] = value
            if t > 0:
                next_values[t - 1] = value
            env_action = action.clamp(-1.0, 1.0).numpy()
            policy_time += time.perf_counter() - start

            start = time.perf_counter()
            self.next_obs, reward, term, trunc, info = self.env.step(env_action)
            sim_time += time.perf_counter() - start

            start = time.perf_counter()
            term = np.asarray(term, dtype=bool)
            done = term | np.asarray(trunc, dtype=bool)
            terminated[t] = torch.from_numpy(term)
            dones[t] = torch.from_numpy(done)
            rewards[t] = torch.from_numpy(
                self.return_scaler(reward, done) if cfg.scale_rewards else np.asarray(reward, dtype=np.float32)
            )
            truncated_only = np.flatnonzero(done & ~term)
            if truncated_only.size:
                # Bootstrap the time-limit cut with the value of the episode's true last observation.
                final = {key: np.asarray(value)[truncated_only] for key, value in info["final_obs"].items()}
                with torch.inference_mode():
                    _, final_value = self._act_forward(final)
                where = torch.from_numpy(truncated_only)
                truncation_values[t, where] = final_value
                truncated[t, where] = True
            if done.any():
                idx = np.flatnonzero(done)
                ep_returns = np.asarray(info["episode_return"], dtype=np.float64)[idx]
                ep_lengths = np.asarray(info["episode_length"], dtype=np.float64)[idx]
                robots = np.asarray(info["robot_index"], dtype=np.int64)[idx]
                self.sampler.record(robots, ep_lengths)
                finished_returns.extend(ep_returns.tolist())
                finished_lengths.extend(ep_lengths.tolist())
                self.recent_returns.extend(ep_returns.tolist())
                self.recent_lengths.extend(ep_lengths.tolist())
            policy_time += time.perf_counter() - start

        start = time.perf_counter()
        with torch.inference_mode():
            _, last_value = self._act_forward(self.next_obs, all_envs=True)
        next_values[T - 1] = last_value
        policy_time += time.perf_counter() - start
        next_values = torch.where(truncated, truncation_values, next_values)
        self.env_steps += T * N
        return {
            "obs": obs_buffers,
            "actions": actions,
            "log_probs": log_probs,
            "values": values,
            "next_values": next_values,
            "rewards": rewards,
            "terminated": terminated,
            "dones": dones,
            "episode_returns": finished_returns,
            "episode_lengths": finished_lengths,
            "sim_time": sim_time,
            "policy_time": policy_time,
        }

    # -----------------------------------------------------------------------------------------
    # 2-3. Advantages and the PPO update
    # -----------------------------------------------------------------------------------------
    def update(self, batch: dict[str, Any]) -> dict[str, float]:
        cfg = self.config
        torch.set_num_threads(cfg.learner_threads)
        advantages, returns = compute_gae(
            batch["rewards"],
            batch["values"],
            batch["next_values"],
            batch["terminated"],
            batch["dones"],
            cfg.gamma,
            cfg.gae_lambda,
        )
        size = cfg.batch_size
        flat_obs = {key: value.reshape(size, *value.shape[2:]) for key, value in batch["obs"].items()}
        flat = {
            "actions": batch["actions"].reshape(size, -1),
            "log_probs": batch["log_probs"].reshape(size),
            "values": batch["values"].reshape(size),
            "advantages": advantages.reshape(size),
            "returns": returns.reshape(size),
        }
        if self.device.type != "cpu":
            flat_obs = {key: value.to(self.device) for key, value in flat_obs.items()}
            flat = {key: value.to(self.device) for key, value in flat.items()}

        lr = cosine_with_warmup(
            self.iteration, cfg.num_iterations, cfg.lr, cfg.lr_warmup_fraction, cfg.lr_final_fraction
        )
        for group in self.optimizer.param_groups:
            group["lr"] = lr

        self.model.train()
        sums = {"policy_loss": 0.0, "value_loss": 0.0, "approx_kl": 0.0, "clip_fraction": 0.0}
        steps = 0
        minibatches_per_epoch = max(1, size // cfg.minibatch_size)
        stop = False
        for _epoch in range(cfg.epochs):
            order = torch.randperm(size, generator=self.generator)
            for start in range(0, minibatches_per_epoch * cfg.minibatch_size, cfg.minibatch_size):
                index = order[start : start + cfg.minibatch_size].to(self.device)
                mb_obs = {key: value[index] for key, value in flat_obs.items()}
                mean, value = self._forward(mb_obs)
                new_log_prob = gaussian_log_prob(mean, self.action_std, flat["actions"][index], mb_obs[ACTION_MASK])
                mb_adv = flat["advantages"][index]
                if cfg.normalize_advantages:
                    mb_adv = normalize_advantages(mb_adv)
                terms = ppo_loss(
                    new_log_prob,
                    flat["log_probs"][index],
                    mb_adv,
                    value,
                    flat["values"][index],
                    flat["returns"][index],
                    cfg.clip_coef,
                    cfg.value_clip_coef,
                    cfg.value_coef,
                )
                if cfg.target_kl is not None and float(terms.approx_kl) > cfg.target_kl:
                    stop = True  # this minibatch moved too far: do not apply it, end the update
                    break
                self.optimizer.zero_grad(set_to_none=True)
                terms.total.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)
                self.optimizer.step()
                steps += 1
                sums["policy_loss"] += terms.policy.item()
                sums["value_loss"] += terms.value.item()
                sums["approx_kl"] += float(terms.approx_kl)
                sums["clip_fraction"] += float(terms.clip_fraction)
            if stop:
                break
        self.model.eval()

        stats = {key: (value / steps if steps else float("nan")) for key, value in sums.items()}
        stats["epochs_run"] = steps / minibatches_per_epoch
        stats["lr"] = lr
        stats["explained_variance"] = explained_variance(flat["values"].cpu(), flat["returns"].cpu())

        # 4. Normaliser: fold in this rollout's observations (used from the next rollout on).
        if cfg.normalize_observations and hasattr(self.model, "update_normalizer"):
            with torch.no_grad():
                self.model.update_normalizer(flat_obs)
        return stats

    # -----------------------------------------------------------------------------------------
    # One iteration, the loop, checkpoints
    # -----------------------------------------------------------------------------------------
    def iteration_step(self) -> dict[str, Any]:
        wall_start = time.perf_counter()
        self._apply_robot_probabilities()
        T, N = self.config.num_steps, self.config.num_envs
        batch = self.collect_rollout()
        learn_start = time.perf_counter()
        stats = self.update(batch)
        learner_time = time.perf_counter() - learn_start
        self.iteration += 1
        elapsed = time.perf_counter() - wall_start
        self.wall_time += elapsed
        episode_returns = batch["episode_returns"]
        row = {
            "iteration": self.iteration,
            "env_steps": self.env_steps,
            "wall_time_s": self.wall_time,
            "episodes": len(episode_returns),
            "episode_return": float(np.mean(episode_returns)) if episode_returns else float("nan"),
            "episode_length": float(np.mean(batch["episode_lengths"])) if episode_returns else float("nan"),
            "recent_return": self.recent_return,
            "reward_scale": self.return_scaler.std,
            "sim_time_s": batch["sim_time"],
            "policy_time_s": batch["policy_time"],
            "learner_time_s": learner_time,
            "steps_per_s": T * N / max(elapsed, 1e-9),
            **stats,
        }
        return row

    @property
    def recent_return(self) -> float:
        return float(np.mean(self.recent_returns)) if self.recent_returns else float("nan")

    @property
    def done(self) -> bool:
        return self.iteration >= self.config.num_iterations

    def train(self, max_iterations: int | None = None, progress: bool = False) -> None:
        """Run iterations until the configured total (or ``max_iterations`` more), checkpointing as it goes."""
        if self.run_dir is not None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            if not (self.run_dir / CONFIG_FILE).exists():
                self.config.save_json(self.run_dir / CONFIG_FILE)
            self._metrics = MetricsWriter(self.run_dir, resume_iteration=self.iteration, tensorboard=self._tensorboard)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(
                total=self.config.num_iterations * self.config.batch_size,
                initial=self.env_steps,
                unit="step",
                unit_scale=True,
                dynamic_ncols=True,
                desc=self.config.name,
            )
        last_checkpoint = time.monotonic()
        ran = 0
        try:
            while not self.done and (max_iterations is None or ran < max_iterations):
                row = self.iteration_step()
                ran += 1
                if self._metrics is not None:
                    self._metrics.write(row)
                if bar is not None:
                    bar.update(self.config.batch_size)
                    bar.set_postfix(
                        it=self.iteration,
                        sps=f"{row['steps_per_s']:.0f}",
                        ret=f"{self.recent_return:.0f}",
                        kl=f"{row['approx_kl']:.3f}",
                        refresh=False,
                    )
                if self.run_dir is not None and time.monotonic() - last_checkpoint >= self.config.checkpoint_interval_s:
                    self.save()
                    last_checkpoint = time.monotonic()
            if self.run_dir is not None:
                self.save()
        finally:
            if bar is not None:
                bar.close()
            if self._metrics is not None:
                self._metrics.close()
                self._metrics = None

    # -----------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        if not hasattr(self.env, "state_dict"):
            raise WorkbenchError("the vector env cannot save its state (no state_dict): resume is impossible")
        return {
            "config": self.config.to_dict(),
            "iteration": self.iteration,
            "env_steps": self.env_steps,
            "wall_time": self.wall_time,
            "model": {key: value.detach().cpu() for key, value in self.model.state_dict().items()},
            "optimizer": _optimizer_state_to_cpu(self.optimizer.state_dict()),
            "return_scaler": self.return_scaler.state_dict(),
            "sampler": self.sampler.state_dict(),
            "generator": self.generator.get_state(),
            "rng": capture_rng_state(),
            "env": self.env.state_dict(),
            "next_obs": {key: np.array(value, copy=True) for key, value in self.next_obs.items()},
            "recent_returns": list(self.recent_returns),
            "recent_lengths": list(self.recent_lengths),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.return_scaler.load_state_dict(state["return_scaler"])
            self.sampler.load_state_dict(state["sampler"])
            self.generator.set_state(state["generator"])
            restore_rng_state(state["rng"])
            self.env.load_state_dict(state["env"])
            self.next_obs = {key: np.array(value, copy=True) for key, value in state["next_obs"].items()}
            self.iteration = int(state["iteration"])
            self.env_steps = int(state["env_steps"])
            self.wall_time = float(state["wall_time"])
            self.recent_returns.clear()
            self.recent_returns.extend(state["recent_returns"])
            self.recent_lengths.clear()
            self.recent_lengths.extend(state["recent_lengths"])
        except (KeyError, RuntimeError, ValueError, TypeError) as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else error.__class__.__name__
            raise WorkbenchError(f"checkpoint does not match this run ({first_line[:160]})") from None
        self._apply_robot_probabilities()

    def save(self) -> None:
        """Atomically write checkpoint.pt (full state) and policy.pt (the plain policy)."""
        assert self.run_dir is not None
        self.save_policy(self.run_dir / POLICY_FILE)
        save_run_checkpoint(self.run_dir / CHECKPOINT_FILE, self.state_dict())

    def save_policy(self, path: str | Path) -> None:
        from workbench.models import save_checkpoint

        save_checkpoint(
            path,
            self.model,
            extra={
                "training_config": self.config.to_dict(),
                "iteration": self.iteration,
                "env_steps": self.env_steps,
                "recent_return": None if math.isnan(self.recent_return) else self.recent_return,
            },
        )


def _optimizer_state_to_cpu(state: dict[str, Any]) -> dict[str, Any]:
    def move(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return value.detach().cpu()
        if isinstance(value, dict):
            return {k: move(v) for k, v in value.items()}
        if isinstance(value, list):
            return [move(v) for v in value]
        return value

    return move(state)
