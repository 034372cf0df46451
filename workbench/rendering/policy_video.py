"""Videos of policies: any policy the evaluation code can run, acting on one robot, with its running
return written on the frames; several policies side by side on the same robot and seed.

Policies come through :func:`workbench.analysis.evaluation.make_policy_adapter` (a checkpoint of any
kind, a generated-MLP ``.npz``, ``"random"``, a module or a callable), so a video shows exactly what
``workbench evaluate`` scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from workbench.errors import WorkbenchError
from workbench.rendering.overlay import hstack_frames, overlay_text
from workbench.rendering.video import render_frames


@dataclass(frozen=True)
class RenderPolicy:
    """A policy bound to one robot: ``act(obs) -> (24,)`` for one unbatched observation."""

    label: str
    """Shown on the frames."""
    act: Callable[[dict], np.ndarray]
    """Observation dict of one env -> action (24,) in [-1, 1]."""
    task: str | None = None
    """Task the policy was trained for (None: any, e.g. random actions)."""
    deployed: bool = False
    """Whether a hypernetwork runs as its generated MLP (numpy) rather than itself."""


def _adapter_task(adapter: Any) -> str | None:
    """The task a policy adapter's model was built for, when it says."""
    mlp = getattr(adapter, "mlp", None)
    if mlp is not None:
        return mlp.header.get("task")
    for owner in (getattr(adapter, "module", None), getattr(adapter, "policy", None)):
        if owner is None:
            continue
        owner = getattr(owner, "actor", owner)  # an actor-critic acts with its actor
        config = getattr(owner, "config", None)
        if config is not None and hasattr(config, "task"):
            return str(config.task)
    return None


def bind_policy(
    policy: Any,
    morphology: Any,
    task: str = "ft",
    seed: int = 0,
    label: str | None = None,
    deploy_hypernetwork: bool = False,
) -> RenderPolicy:
    """Make ``policy`` act on ``morphology`` in ``task``.

    Args:
        policy: ``"random"``, a checkpoint path (.pt), a generated-MLP path (.npz), a torch module,
            a callable or a ``PolicyAdapter``.
        morphology: the robot (a Morphology).
        task: the task the video shows; a policy that reads the height map (VT / Obstacle) cannot
            run on flat terrain, and a policy of another terrain task is refused too.
        seed: seeds random actions.
        label: text on the frames (default: the file's folder and name, or the policy's name).
        deploy_hypernetwork: run a HyperDistill checkpoint the deployment way (its generated MLP in
            numpy) instead of the hypernetwork itself; same actions, as the tests of evaluation check.

    Raises:
        WorkbenchError: missing or unreadable files, a generated MLP of another robot, a task mismatch.
    """
    from workbench.analysis.evaluation import deployed_hypernetwork_adapter, make_policy_adapter

    adapter = None
    deployed = False
    if deploy_hypernetwork and isinstance(policy, (str, Path)) and Path(policy).suffix == ".pt":
        from workbench.models import HyperDistillPolicy, load_checkpoint

        loaded = load_checkpoint(policy).policy
        deployed = isinstance(loaded, HyperDistillPolicy)
        if deployed:
            adapter = deployed_hypernetwork_adapter(loaded)
        else:  # not a hypernetwork: nothing to deploy, run the module itself
            adapter = make_policy_adapter(loaded, seed=seed)
        adapter.name = Path(policy).stem
    if adapter is None:
        adapter = make_policy_adapter(policy, seed=seed)
    trained_for = _adapter_task(adapter)
    if trained_for is not None and trained_for not in ("ft", task):
        where = f" ({policy})" if isinstance(policy, (str, Path)) else ""
        raise WorkbenchError(f"policy{where} was trained for task {trained_for!r} and cannot run task {task!r}")
    adapter.prepare([morphology])  # generated MLPs refuse a robot of another structure here
    robot_index = np.zeros(1, dtype=np.int64)

    def act(obs: dict) -> np.ndarray:
        batched = {key: np.asarray(value)[None] for key, value in obs.items()}
        return np.clip(adapter.act(batched, robot_index)[0], -1.0, 1.0)

    if label is None and isinstance(policy, (str, Path)) and str(policy) != "random":
        path = Path(policy)  # "teacher-ft/policy.pt" says more than "policy"
        label = f"{path.parent.name}/{path.name}" if path.parent.name else path.name
    return RenderPolicy(label=label or adapter.name, act=act, task=trained_for, deployed=deployed)


class ReturnTracker:
    """Running return of the episode on screen (an ``on_step`` callback of ``render_frames``).

    The video continues across episodes: a new episode starts from 0 and ``finished`` keeps the
    returns of the episodes that ended."""

    def __init__(self) -> None:
        self.current = 0.0
        self.episode = 1
        self.steps = 0
        self.finished: list[float] = []
        self._restart = False

    def __call__(self, obs: dict, reward: float, terminated: bool, truncated: bool, info: dict) -> None:
        if self._restart:
            self.current, self.steps, self._restart = 0.0, 0, False
            self.episode += 1
        self.current += float(reward)
        self.steps += 1
        if terminated or truncated:
            self.finished.append(self.current)
            self._restart = True

    def lines(self, label: str) -> list[str]:
        """Text shown on a frame: the policy, the running return, the episode."""
        return [label, f"return {self.current:8.1f}", f"episode {self.episode}, step {self.steps}"]


def policy_frames(
    morphology: Any,
    policy: RenderPolicy,
    task: str = "ft",
    steps: int = 500,
    seed: int | None = 0,
    width: int = 480,
    height: int = 480,
    config: Any = None,
    tracker: ReturnTracker | None = None,
    overlay: bool = True,
) -> Iterator[np.ndarray]:
    """``steps`` frames of ``policy`` acting on ``morphology``, its running return written on each
    (``overlay=False``: plain frames). Pass a ``tracker`` to read the returns afterwards."""
    tracker = tracker if tracker is not None else ReturnTracker()
    frames = render_frames(morphology, task=task, steps=steps, policy_fn=policy.act, seed=seed, width=width,
                           height=height, config=config, on_step=tracker)
    for frame in frames:
        yield overlay_text(frame, tracker.lines(policy.label)) if overlay else frame


def side_by_side_frames(
    morphology: Any,
    policies: Sequence[RenderPolicy],
    task: str = "ft",
    steps: int = 500,
    seed: int | None = 0,
    width: int = 360,
    height: int = 360,
    config: Any = None,
    trackers: Sequence[ReturnTracker] | None = None,
    gap: int = 4,
) -> Iterator[np.ndarray]:
    """``steps`` frames of every policy on the same robot and seed (so each starts from the same
    state), placed left to right, each ``width`` wide with its running return, ``gap`` pixels apart:
    frames are ``(height, n * width + (n - 1) * gap, 3)``."""
    if not policies:
        raise WorkbenchError("no policies to render")
    trackers = list(trackers) if trackers is not None else [ReturnTracker() for _ in policies]
    if len(trackers) != len(policies):
        raise ValueError("one tracker per policy")
    streams = [policy_frames(morphology, p, task, steps, seed, width, height, config, tracker=t)
               for p, t in zip(policies, trackers)]
    try:
        for parts in zip(*streams):
            yield hstack_frames(parts, gap=gap)
    finally:
        for stream in streams:
            stream.close()  # closes each env and its renderer now, not at garbage collection


def save_video(frames: Iterator[np.ndarray], path: str | Path, fps: float = 50.0, total: int | None = None,
               progress: bool = True, leave: bool = True) -> int:
    """:func:`workbench.rendering.write_video` into a temporary file renamed to ``path`` when complete,
    so an interrupted or failed render never leaves a truncated MP4 behind. ``progress``: a frame
    progress bar (``leave=False``: removed when done, for bars nested in another). Returns the frame count."""
    import os

    from workbench.rendering.video import write_video

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")  # ffmpeg picks the container by extension
    if progress:
        from tqdm.auto import tqdm

        frames = tqdm(frames, total=total, unit="frame", desc=f"rendering {path.name}", leave=leave,
                      dynamic_ncols=True)
    try:
        count = write_video(frames, tmp, fps=fps, total=total, progress=False)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return count
