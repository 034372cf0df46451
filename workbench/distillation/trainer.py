"""Distil a teacher's dataset into a student by behaviour cloning (the paper's Section 3.3).

Each step: a robot-grouped minibatch (:mod:`batching`), the student's action means (generated
weights once per robot, :mod:`student`), the KL loss (:mod:`loss`), Adam with a global grad-norm
clip. The student normalises observations with the teacher's statistics, frozen.

``RUN_DIR``: ``config.json``, ``metrics.csv`` (one row per epoch), ``student.pt`` (the student, for
``load_policy`` / ``workbench evaluate``) and ``state.pt`` (model, optimiser, RNG, position in the
data order). Everything random is seeded and the data order of an epoch is a function of (seed,
epoch), so a run interrupted and resumed ends with exactly the weights of one that never stopped
(same seed, CPU).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from workbench.distillation.batching import ChunkSampler, Minibatch
from workbench.distillation.config import DistillConfig
from workbench.distillation.dataset import DatasetUnion, DistillDataset
from workbench.distillation.loss import distillation_loss
from workbench.distillation.metrics import EVAL_PREFIX, EpochMetrics, metric_columns
from workbench.distillation.student import (GroupedStudent, batch_to_torch, build_student, load_initial_weights,
                                            load_teacher_normalization)
from workbench.errors import WorkbenchError

CONFIG_FILE = "config.json"
STATE_FILE = "state.pt"
STUDENT_FILE = "student.pt"
METRICS_FILE = "metrics.csv"
TRAIN_SET = "train"


def dataset_identity(dataset: DistillDataset | DatasetUnion) -> str:
    """sha256 of the dataset's manifest (it holds every file's checksum); of a union, the sha256 of
    its parts' identities in order."""
    digests = [hashlib.sha256((root / "manifest.json").read_bytes()).hexdigest() for root in dataset.roots]
    return digests[0] if len(digests) == 1 else hashlib.sha256("\n".join(digests).encode()).hexdigest()


def dataset_source(dataset: DistillDataset | DatasetUnion) -> str | list[str]:
    """The dataset folder (a list of folders for a union), for config.json and the student's metadata."""
    roots = [str(root) for root in dataset.roots]
    return roots[0] if len(roots) == 1 else roots


class Distiller:
    """Owns the student, the optimiser and every piece of state a resume needs.

    Args:
        config: the run's settings. dataset: the teacher's dataset.
        student: the student method (``hyperdistill``, ``modumorph``, ``mlp``, ...).
        run_dir: where the run's files go (None: nothing written). resume: continue from ``state.pt``.
    """

    def __init__(self, config: DistillConfig, dataset: DistillDataset | DatasetUnion, student: str,
                 run_dir: str | Path | None, resume: bool = False,
                 log: Callable[[str], None] | None = None) -> None:
        self.config = config.validate()
        self.dataset = dataset
        self.method = student
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.log = log or (lambda message: None)
        self.device = torch.device(config.device)
        torch.manual_seed(config.seed)
        # The loss is the KL of two Gaussians with the same fixed std: the student takes the teacher's.
        overrides = {"action_std": dataset.action_std, **config.model_overrides.get(student, {})}
        if overrides["action_std"] != dataset.action_std:
            raise WorkbenchError(f"the student's action std must be the teacher's ({dataset.action_std})")
        self.policy = build_student(student, config.model, overrides, dataset.task)
        if config.init_policy is not None:
            load_initial_weights(self.policy, config.init_policy)
        load_teacher_normalization(self.policy, dataset.normalizer_state())
        self.policy.to(self.device).train()
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=config.lr, eps=config.adam_eps)
        try:
            self.sampler = ChunkSampler(dataset.counts(), config.chunk_size, config.robots_per_batch, config.seed)
        except ValueError as error:
            raise WorkbenchError(f"batch does not fit the dataset: {error}; lower batch_size or raise "
                                 f"robots_per_batch (--set KEY=VALUE)", dataset.roots[0]) from None
        example = self._to_device(batch_to_torch(dataset.batch(*self._example_chunks()))[0])
        self.forward = GroupedStudent(self.policy, example)
        self.eval_sets = self._eval_sets()
        self.epoch = 0  # completed epochs
        self.batch_in_epoch = 0  # minibatches of the current epoch already applied
        self.step = 0
        self.samples = 0
        self.wall_time = 0.0
        self.sums = {"loss": 0.0, "grad_norm": 0.0, "batches": 0}
        self.identity = dataset_identity(dataset)
        self.metrics: EpochMetrics | None = None
        if resume:
            if self.run_dir is None:
                raise ValueError("resume needs a run directory")
            self.load_state_dict(self._read_state())
        if self.run_dir is not None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            config.save_json(self.run_dir / CONFIG_FILE, {"student": student, "dataset": dataset_source(dataset),
                                                          "dataset_sha256": self.identity})
            self.metrics = EpochMetrics(self.run_dir, metric_columns(list(self.eval_sets)),
                                        keep_epochs=self.epoch if resume else None)

    # ------------------------------------------------------------------ setup
    def _example_chunks(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """Two robots' first rows: a batch to check the grouped forward pass against the plain one."""
        n = min(8, int(self.dataset.counts().min()))
        robots = np.arange(min(2, self.dataset.num_robots))
        return robots, [np.arange(n) for _ in robots]

    def _to_device(self, obs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {key: value.to(self.device) for key, value in obs.items()}

    def _eval_sets(self) -> dict[str, list]:
        """Robot sets of the periodic evaluation (empty when it is off)."""
        cfg = self.config
        if cfg.eval_every == 0:
            return {}
        from workbench.morphology import load_robots

        limit = cfg.eval_max_robots
        sets: dict[str, list] = {}
        if cfg.eval_train_robots:
            indices = self.dataset.training_robot_indices()[:limit]
            sets[TRAIN_SET] = [self.dataset.morphology(i) for i in indices]
        for spec in cfg.eval_robots:
            name = Path(str(spec).rstrip("/")).name or str(spec)
            if name in sets:
                raise WorkbenchError(f"two evaluation robot sets are called {name!r}")
            sets[name] = list(load_robots(spec))[:limit]
        return sets

    # ------------------------------------------------------------------ one step
    def learning_rate(self) -> float:
        """The learning rate of the next gradient step (a function of the step alone: resume stays exact)."""
        cfg = self.config
        if cfg.lr_schedule == "constant":
            return cfg.lr
        from workbench.training.schedule import cosine_with_warmup

        return cosine_with_warmup(self.step, cfg.epochs * self.sampler.batches_per_epoch, cfg.lr)

    def train_step(self, minibatch: Minibatch) -> tuple[float, float]:
        """One gradient step on a robot-grouped minibatch; returns (loss, grad norm before clipping)."""
        lr = self.learning_rate()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        batch = self.dataset.batch(minibatch.robots, list(minibatch.rows))
        obs, target, chunk_robot = batch_to_torch(batch)
        obs = self._to_device(obs)
        mean = self.forward(obs, chunk_robot.to(self.device))
        loss = distillation_loss(mean, target.to(self.device), obs["action_mask"], self.dataset.action_std)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.policy.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        return float(loss.detach()), float(grad_norm)

    # ------------------------------------------------------------------ the loop
    @property
    def done(self) -> bool:
        return self.epoch >= self.config.epochs

    def train(self, max_steps: int | None = None, progress: bool = False) -> None:
        """Train to ``config.epochs`` (or stop after gradient step ``max_steps``, without saving: a
        test's stand-in for a kill)."""
        cfg = self.config
        threads = torch.get_num_threads()
        torch.set_num_threads(cfg.threads)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=cfg.epochs * self.sampler.batches_per_epoch, initial=self.step, unit="step",
                       desc=f"distil {self.method}", dynamic_ncols=True)
        try:
            while not self.done:
                batches = self.sampler.epoch(self.epoch)
                start = time.perf_counter()
                while self.batch_in_epoch < len(batches):
                    if max_steps is not None and self.step >= max_steps:
                        self.wall_time += time.perf_counter() - start
                        return
                    minibatch = batches[self.batch_in_epoch]
                    loss, grad_norm = self.train_step(minibatch)
                    self.samples += int(minibatch.rows.size)
                    self.batch_in_epoch += 1
                    self.step += 1
                    self.sums["loss"] += loss
                    self.sums["grad_norm"] += grad_norm
                    self.sums["batches"] += 1
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(epoch=self.epoch + 1, loss=f"{loss:.4f}", refresh=False)
                    if self.step % cfg.checkpoint_every == 0:
                        self.wall_time += time.perf_counter() - start
                        start = time.perf_counter()
                        self.save()
                self.wall_time += time.perf_counter() - start
                self._finish_epoch()
        finally:
            torch.set_num_threads(threads)
            if bar is not None:
                bar.close()

    def _finish_epoch(self) -> None:
        cfg = self.config
        batches = max(1, self.sums["batches"])
        row: dict[str, Any] = {
            "epoch": self.epoch + 1, "step": self.step, "samples": self.samples,
            "loss": self.sums["loss"] / batches, "grad_norm": self.sums["grad_norm"] / batches,
            "lr": self.optimizer.param_groups[0]["lr"], "wall_time_s": self.wall_time,
        }
        last = self.epoch + 1 == cfg.epochs
        if cfg.eval_every and ((self.epoch + 1) % cfg.eval_every == 0 or last):
            for name, value in self.evaluate().items():
                row[f"{EVAL_PREFIX}{name}"] = value
        self.log(f"epoch {self.epoch + 1}/{cfg.epochs}: loss {row['loss']:.5f}" + "".join(
            f", {k[len(EVAL_PREFIX):]} return {v:.1f}" for k, v in row.items() if k.startswith(EVAL_PREFIX)))
        self.epoch += 1
        self.batch_in_epoch = 0
        self.sums = {"loss": 0.0, "grad_norm": 0.0, "batches": 0}
        if self.metrics is not None:
            self.metrics.write(row)
        self.save()

    def evaluate(self) -> dict[str, float]:
        """Mean over robots of the per-robot mean return, per evaluation set (the paper's protocol)."""
        from workbench.analysis.evaluation import evaluate_policy
        from workbench.envs import EnvConfig

        cfg = self.config
        env_config = EnvConfig(max_episode_steps=cfg.eval_max_episode_steps) if cfg.eval_max_episode_steps else None
        results = {}
        try:
            for name, robots in self.eval_sets.items():
                frame = evaluate_policy(self.policy, robots, task=self.dataset.task, episodes=cfg.eval_episodes,
                                        seed=cfg.seed, device=str(self.device), env_config=env_config)
                results[name] = float(frame.attrs["mean_return"])
        finally:
            self.policy.train()
        return results

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        from workbench.training.checkpoint import capture_rng_state

        return {
            "kind": "distillation", "student": self.method, "dataset_sha256": self.identity,
            "model": {k: v.detach().cpu() for k, v in self.policy.state_dict().items()},
            "optimizer": self.optimizer.state_dict(), "rng": capture_rng_state(),
            "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch, "step": self.step, "samples": self.samples,
            "wall_time": self.wall_time, "sums": dict(self.sums),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        from workbench.training.checkpoint import restore_rng_state

        path = self.run_dir / STATE_FILE if self.run_dir else None
        if state.get("kind") != "distillation" or state.get("student") != self.method:
            raise WorkbenchError(f"checkpoint is not a distillation of a {self.method} student", path)
        if state.get("dataset_sha256") != self.identity:
            raise WorkbenchError("the run was distilled from another dataset (manifest differs)", path)
        self.policy.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        restore_rng_state(state["rng"])
        self.epoch = int(state["epoch"])
        self.batch_in_epoch = int(state["batch_in_epoch"])
        self.step = int(state["step"])
        self.samples = int(state["samples"])
        self.wall_time = float(state["wall_time"])
        self.sums = {"loss": float(state["sums"]["loss"]), "grad_norm": float(state["sums"]["grad_norm"]),
                     "batches": int(state["sums"]["batches"])}

    def _read_state(self) -> dict[str, Any]:
        from workbench.training.checkpoint import load_run_checkpoint

        return load_run_checkpoint(self.run_dir / STATE_FILE)

    def save(self) -> None:
        """Write ``student.pt`` then ``state.pt`` (each atomically)."""
        if self.run_dir is None:
            return
        from workbench.models import save_checkpoint
        from workbench.training.checkpoint import save_run_checkpoint

        save_checkpoint(self.run_dir / STUDENT_FILE, self.policy, extra={"distillation": json.loads(json.dumps({
            "student": self.method, "config": self.config.name, "epoch": self.epoch, "step": self.step,
            "dataset": dataset_source(self.dataset), "dataset_sha256": self.identity,
            "teacher_sha256": self.dataset.manifest["teacher"]["sha256"],
        }))})
        save_run_checkpoint(self.run_dir / STATE_FILE, self.state_dict())
