"""Every setting of a distillation run, in one typed dataclass, and the named configurations.

``paper-ft``: the paper's Section 4.1 (batch 5,120, Adam 3e-4, grad-norm clip 0.5, 150 epochs, the
paper-size students). ``workbench-ft``: the same recipe with the workbench-size students and a batch
that trains on a 2-core CPU. ``tiny``: minutes-long tests.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError


LR_SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class DistillConfig:
    """One distillation run. Every field is a setting; nothing is hidden elsewhere."""

    name: str = "custom"
    """Name of this configuration (informational; written to config.json)."""
    model: str = "workbench-ft"
    """Named model size: the student is ``workbench.models.get_model_config(model, student)``."""
    model_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per student method, fields replaced in its named model configuration (e.g. tiny test sizes)."""

    init_policy: str | None = None
    """Student checkpoint whose weights the student starts from (None: a fresh initialisation). A
    DAgger round continues from the previous round's ``student.pt``."""

    # --- optimisation ---------------------------------------------------------------------------
    epochs: int = 50
    """Passes over the dataset (the paper: 150 for the main results, 50 for ablations)."""
    batch_size: int = 1024
    """Transitions per gradient step (= robots_per_batch x transitions per robot chunk)."""
    robots_per_batch: int = 8
    """Robot chunks per minibatch; the hypernetwork generates each of these robots' MLP once per step."""
    lr: float = 3e-4
    """Adam learning rate (the peak of a cosine schedule)."""
    lr_schedule: str = "constant"
    """``constant`` (the paper) or ``cosine``: a half cosine from ``lr`` to 0 over the run's steps."""
    adam_eps: float = 1e-8
    """Adam epsilon."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip."""
    seed: int = 0
    """Seeds the student's initialisation, the minibatch order and dropout."""

    # --- evaluation and bookkeeping ----------------------------------------------------------------
    eval_every: int = 0
    """Evaluate the student every this many epochs and after the last one (0: never)."""
    eval_robots: tuple[str, ...] = ()
    """Robot sets evaluated besides the dataset's training robots (suite names or folders)."""
    eval_train_robots: bool = True
    """Also evaluate on the teacher's training robots (those of the dataset, ``train`` column)."""
    eval_max_robots: int | None = 16
    """Evaluate on at most the first this many robots of each set (None: all)."""
    eval_episodes: int = 2
    """Episodes per robot of the periodic evaluation (mean action, the paper's protocol)."""
    eval_max_episode_steps: int | None = None
    """Episode length of the periodic evaluation (None: the environment's default)."""
    checkpoint_every: int = 200
    """Gradient steps between checkpoints (one is always written at the end of every epoch)."""
    threads: int = 2
    """torch threads for training."""
    device: str = "cpu"
    """Training device: cpu or cuda (exact resume is guaranteed on CPU)."""

    @property
    def chunk_size(self) -> int:
        """Transitions per robot chunk."""
        return self.batch_size // self.robots_per_batch

    def validate(self) -> "DistillConfig":
        problems = []
        if self.epochs < 1:
            problems.append("epochs must be >= 1")
        if self.robots_per_batch < 1 or self.batch_size < self.robots_per_batch:
            problems.append("need 1 <= robots_per_batch <= batch_size")
        if self.lr <= 0 or self.max_grad_norm <= 0:
            problems.append("lr and max_grad_norm must be > 0")
        if self.lr_schedule not in LR_SCHEDULES:
            problems.append(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}")
        if self.eval_every < 0 or self.eval_episodes < 1:
            problems.append("eval_every must be >= 0 and eval_episodes >= 1")
        if self.checkpoint_every < 1 or self.threads < 1:
            problems.append("checkpoint_every and threads must be >= 1")
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            problems.append("device must be cpu or cuda")
        # Keyed by student method: a flat {"hidden_dim": 256} would otherwise be silently ignored.
        from workbench.models.config import METHODS

        for method, fields in self.model_overrides.items():
            if method not in METHODS or not isinstance(fields, dict):
                problems.append("model_overrides maps a student method to its fields, e.g. "
                                f'{{"hyperdistill": {{"hidden_dim": 256}}}}; got {method!r}: {fields!r}')
        if problems:
            raise WorkbenchError(f"invalid distillation configuration {self.name!r}: " + "; ".join(problems))
        return self

    def replace(self, **changes: Any) -> "DistillConfig":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise WorkbenchError(f"unknown distillation setting(s): {', '.join(sorted(unknown))}")
        if "eval_robots" in changes:
            changes["eval_robots"] = tuple(changes["eval_robots"])
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["eval_robots"] = list(self.eval_robots)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DistillConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise WorkbenchError(f"unknown distillation setting(s): {', '.join(sorted(unknown))}")
        values = dict(data)
        if "eval_robots" in values:
            values["eval_robots"] = tuple(values["eval_robots"])
        return cls(**values)

    def save_json(self, path: str | Path, extra: dict[str, Any] | None = None) -> None:
        from workbench.files import atomic_write_text

        payload = {"config": self.to_dict(), **(extra or {})}
        atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


PAPER_FT = DistillConfig(name="paper-ft", model="paper-ft", epochs=150, batch_size=5120, robots_per_batch=8,
                         eval_every=10, eval_episodes=16, eval_max_robots=None, threads=8)
WORKBENCH_FT = DistillConfig(name="workbench-ft", model="workbench-ft", epochs=40, batch_size=2048,
                             robots_per_batch=8, eval_every=10, eval_episodes=2, eval_max_robots=16)
# Tests: students a few thousand parameters large, short evaluation episodes.
TINY = DistillConfig(
    name="tiny", model="workbench-ft", epochs=4, batch_size=256, robots_per_batch=4, eval_every=0,
    eval_max_robots=2, eval_episodes=1, eval_max_episode_steps=20, checkpoint_every=5, threads=1,
    model_overrides={
        "hyperdistill": {"hidden_dim": 32, "embed_dim": 16, "encoder_feedforward_dim": 32},
        "mlp": {"hidden_dim": 32},
        "modumorph": {"d_model": 16, "head_dim": 8, "feedforward_dim": 32, "hn_hidden": 16, "num_layers": 1},
        "modumorph-compressed": {"d_model": 16, "feedforward_dim": 32, "hn_hidden": 16},
        "tf-compressed": {"d_model": 16, "feedforward_dim": 32},
        "metamorph": {"d_model": 16, "head_dim": 8, "feedforward_dim": 32, "num_layers": 1},
    },
)

NAMED_CONFIGS: dict[str, DistillConfig] = {c.name: c for c in (PAPER_FT, WORKBENCH_FT, TINY)}


def get_distill_config(name: str, **overrides: Any) -> DistillConfig:
    """A named configuration with some fields replaced (None values ignored)."""
    try:
        base = NAMED_CONFIGS[name]
    except KeyError:
        raise WorkbenchError(f"unknown distillation configuration {name!r} "
                             f"(known: {', '.join(sorted(NAMED_CONFIGS))})") from None
    return base.replace(**{k: v for k, v in overrides.items() if v is not None}).validate()
