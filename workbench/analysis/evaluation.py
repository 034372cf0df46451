"""Evaluate a policy on a set of robots: the paper's protocol.

Every robot runs ``episodes`` episodes with the policy's mean action (deterministic)
and its observation normalisation frozen; the score of a robot is the mean raw return
of its episodes, and the score of a set is the mean over robots of those per-robot
means. Episodes of several robots run side by side in one vector env (env i runs
robot i % n, each env's first episode counts).

Any policy goes through a small adapter (:class:`PolicyAdapter`): ``act(obs, robot_index)``
maps a batched observation dict (numpy) to actions (B, 24). Adapters exist for torch
modules (every policy kind of ``workbench.models``, loaded with ``load_policy``), the
uniform random floor, plain callables ``obs -> actions``, and generated-MLP files
(``.npz``, ``workbench.deploy.load_mlp``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError

RESULT_COLUMNS = ("robot", "episodes", "mean_return", "std_return", "mean_length", "min_return", "max_return")


# ---------------------------------------------------------------------------------------------
# Policy adapters
# ---------------------------------------------------------------------------------------------


class PolicyAdapter:
    """Anything that acts: ``act(obs, robot_index) -> (B, 24)`` actions in [-1, 1].

    ``prepare(morphologies)`` is called before a group of robots is run; ``robot_index``
    in ``act`` indexes that list (per-robot policies such as generated MLPs use it).
    """

    name = "policy"

    def prepare(self, morphologies: Sequence[Any]) -> None:  # noqa: B027 - optional hook
        pass

    def act(self, obs: dict[str, np.ndarray], robot_index: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class CallableAdapter(PolicyAdapter):
    """Wraps a plain callable ``obs -> actions`` (numpy in, numpy out)."""

    def __init__(self, fn: Callable[[dict[str, np.ndarray]], np.ndarray], name: str = "callable") -> None:
        self.fn = fn
        self.name = name

    def act(self, obs: dict[str, np.ndarray], robot_index: np.ndarray) -> np.ndarray:
        return np.asarray(self.fn(obs), dtype=np.float32)


class RandomAdapter(PolicyAdapter):
    """Uniform random actions in [-1, 1]: the floor every method should beat."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def act(self, obs: dict[str, np.ndarray], robot_index: np.ndarray) -> np.ndarray:
        batch = np.shape(obs["action_mask"])[0]
        width = np.shape(obs["action_mask"])[1]
        return self.rng.uniform(-1.0, 1.0, size=(batch, width)).astype(np.float32)


class TorchPolicyAdapter(PolicyAdapter):
    """A torch policy (raw obs dict of tensors -> mean, or (mean, value)) run in inference mode."""

    def __init__(self, module: Any, device: str = "cpu", name: str = "torch") -> None:
        import torch

        self.torch = torch
        self.device = torch.device(device)
        self.module = module.to(self.device).eval()
        self.name = name

    def act(self, obs: dict[str, np.ndarray], robot_index: np.ndarray) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode():
            tensors = {k: torch.as_tensor(np.asarray(v, dtype=np.float32), device=self.device) for k, v in obs.items()}
            out = self.module(tensors)
            mean = out[0] if isinstance(out, (tuple, list)) else out
            return mean.float().cpu().numpy()


class NumpyMLPAdapter(PolicyAdapter):
    """A generated MLP file (``workbench.deploy.load_mlp``): ``.act(obs) -> actions`` in numpy.

    A generated MLP belongs to one robot: ``prepare`` refuses robots whose structural fingerprint
    differs from the one recorded in the file.
    """

    def __init__(self, mlp: Any, name: str = "mlp", path: str | Path | None = None) -> None:
        self.mlp = mlp
        self.name = name
        self.path = path

    def prepare(self, morphologies: Sequence[Any]) -> None:
        from workbench.morphology import fingerprint

        for morph in morphologies:
            own = fingerprint(morph)
            if self.mlp.fingerprint and own != self.mlp.fingerprint:
                raise WorkbenchError(
                    f"generated MLP of robot {self.mlp.robot!r} (fingerprint {self.mlp.fingerprint}) cannot run "
                    f"robot {getattr(morph, 'name', morph)!r} (fingerprint {own}); export one for that robot",
                    self.path)

    def act(self, obs: dict[str, np.ndarray], robot_index: np.ndarray) -> np.ndarray:
        return np.asarray(self.mlp.act(obs), dtype=np.float32)


class DeployedHyperNetworkAdapter(PolicyAdapter):
    """A HyperDistill policy run the deployment way: each robot's base MLP is generated once
    (``policy.generate``) and run in numpy (``workbench.deploy``), no torch per step."""

    def __init__(self, policy: Any, name: str = "hn-deployed") -> None:
        self.policy = policy
        self.name = name
        self.mlps: list[Any] = []

    def prepare(self, morphologies: Sequence[Any]) -> None:
        self.mlps = [self.policy.generate(morph) for morph in morphologies]

    def act(self, obs: dict[str, np.ndarray], robot_index: np.ndarray) -> np.ndarray:
        robot_index = np.asarray(robot_index)
        actions = np.zeros(np.shape(obs["action_mask"]), dtype=np.float32)
        for index in np.unique(robot_index):
            rows = np.flatnonzero(robot_index == index)
            actions[rows] = self.mlps[int(index)].act({key: np.asarray(value)[rows] for key, value in obs.items()})
        return actions


def deployed_hypernetwork_adapter(policy: Any) -> DeployedHyperNetworkAdapter:
    """:class:`DeployedHyperNetworkAdapter` of a HyperDistill checkpoint path or module (else WorkbenchError)."""
    from workbench.models import HyperDistillPolicy, load_checkpoint

    name = "hn-deployed"
    if isinstance(policy, (str, Path)):
        name = f"{Path(policy).stem}-deployed"
        policy = load_checkpoint(policy).policy
    if not isinstance(policy, HyperDistillPolicy):
        raise WorkbenchError(f"only a HyperDistill policy generates per-robot MLPs, not a {type(policy).__name__}")
    return DeployedHyperNetworkAdapter(policy.eval(), name=name)


def make_policy_adapter(policy: Any, device: str = "cpu", seed: int = 0) -> PolicyAdapter:
    """``"random"``, a checkpoint path (.pt: ``load_policy``), a generated-MLP file (.npz),
    a torch module, an adapter or a callable -> a :class:`PolicyAdapter`."""
    if isinstance(policy, PolicyAdapter):
        return policy
    if isinstance(policy, str) and policy == "random":
        return RandomAdapter(seed)
    if isinstance(policy, (str, Path)):
        path = Path(policy)
        if not path.exists():
            raise WorkbenchError("no such policy file", path)
        if path.suffix == ".npz":
            from workbench.deploy import load_mlp

            return NumpyMLPAdapter(load_mlp(path), name=path.stem, path=path)
        from workbench.models import load_policy

        return TorchPolicyAdapter(load_policy(path), device=device, name=path.stem)
    try:
        import torch

        if isinstance(policy, torch.nn.Module):
            return TorchPolicyAdapter(policy, device=device, name=policy.__class__.__name__)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if callable(policy):
        return CallableAdapter(policy)
    raise WorkbenchError(f"cannot evaluate a policy of type {type(policy).__name__}")


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def evaluate_policy(
    policy: Any,
    robots: Any,
    task: str = "ft",
    episodes: int = 16,
    seed: int = 0,
    max_envs: int = 256,
    device: str = "cpu",
    env_config: Any = None,
    progress: bool = False,
    num_threads: int | None = None,
) -> pd.DataFrame:
    """Run ``episodes`` deterministic episodes per robot; one row per robot.

    Args:
        policy: see :func:`make_policy_adapter`.
        robots: a ``load_robots`` spec (suite name, directory, file, list) or a list of Morphology.
        task: ft, vt or obstacle. episodes: per robot. seed: seeds the env resets (and random actions).
        max_envs: environments per vector env; robots are run in groups of max_envs // episodes.
            Results are reproducible for the same (seed, episodes, max_envs): the reset noise an
            episode gets depends on its env slot, so another grouping draws other (equally valid) noise.

    Returns:
        DataFrame with columns robot, episodes, mean_return, std_return (population std),
        mean_length, min_return, max_return; ``df.attrs["mean_return"]`` is the mean over robots.
    """
    from workbench.envs import VectorUnimalEnv
    from workbench.morphology import load_robots

    if episodes < 1:
        raise WorkbenchError("episodes must be >= 1")
    morphologies = _as_morphologies(robots, load_robots)
    adapter = make_policy_adapter(policy, device=device, seed=seed)
    per_group = max(1, max_envs // episodes)
    rows: list[dict[str, Any]] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(morphologies), unit="robot", desc=f"evaluate {adapter.name}", dynamic_ncols=True)
    try:
        for group_start in range(0, len(morphologies), per_group):
            group = morphologies[group_start : group_start + per_group]
            returns, lengths = _run_group(
                adapter, group, task, episodes, seed + group_start, env_config, num_threads, VectorUnimalEnv
            )
            for i, morph in enumerate(group):
                r, n = returns[i], lengths[i]
                rows.append(
                    {
                        "robot": getattr(morph, "name", str(morph)),
                        "episodes": len(r),
                        "mean_return": float(np.mean(r)),
                        "std_return": float(np.std(r)),
                        "mean_length": float(np.mean(n)),
                        "min_return": float(np.min(r)),
                        "max_return": float(np.max(r)),
                    }
                )
            if bar is not None:
                bar.update(len(group))
                bar.set_postfix(mean=f"{np.mean([row['mean_return'] for row in rows]):.0f}", refresh=False)
    finally:
        if bar is not None:
            bar.close()
    frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    frame.attrs["mean_return"] = float(frame["mean_return"].mean()) if len(frame) else math.nan
    frame.attrs["policy"] = adapter.name
    frame.attrs["task"] = task
    return frame


def _as_morphologies(robots: Any, load_robots: Callable[[Any], list]) -> list:
    if isinstance(robots, (list, tuple)) and robots and all(hasattr(r, "to_xml") for r in robots):
        return list(robots)
    if hasattr(robots, "to_xml"):
        return [robots]
    loaded = list(load_robots(robots))
    if not loaded:
        raise WorkbenchError(f"no robots in {robots!r}")
    return loaded


def _run_group(adapter, group, task, episodes, seed, env_config, num_threads, vector_env_cls):
    """Run each robot of ``group`` for ``episodes`` first episodes in one vector env."""
    n = len(group)
    num_envs = n * episodes
    env = vector_env_cls(group, num_envs, task=task, config=env_config, num_threads=num_threads)
    try:
        env.set_robot_probabilities(None)  # fixed: env i runs robot i % n
        adapter.prepare(group)
        obs, _ = env.reset(seed=seed)
        robot_of_env = np.arange(num_envs) % n
        finished = np.zeros(num_envs, dtype=bool)
        ep_return = np.zeros(num_envs)
        ep_length = np.zeros(num_envs)
        while not finished.all():
            actions = np.clip(adapter.act(obs, robot_of_env), -1.0, 1.0)
            obs, _reward, terminated, truncated, info = env.step(actions)
            done = (np.asarray(terminated) | np.asarray(truncated)) & ~finished
            if done.any():
                ep_return[done] = np.asarray(info["episode_return"])[done]
                ep_length[done] = np.asarray(info["episode_length"])[done]
                finished |= done
    finally:
        env.close()
    returns = [ep_return[robot_of_env == i] for i in range(n)]
    lengths = [ep_length[robot_of_env == i] for i in range(n)]
    return returns, lengths


# ---------------------------------------------------------------------------------------------
# Presentation
# ---------------------------------------------------------------------------------------------


def format_table(frame: pd.DataFrame) -> str:
    """The per-robot table and the mean over robots, as printed by ``workbench evaluate``."""
    width = max([5] + [len(str(name)) for name in frame["robot"]])
    lines = [f"{'robot':<{width}}  {'mean return':>11}  {'std':>8}  {'mean length':>11}"]
    for row in frame.itertuples(index=False):
        lines.append(f"{row.robot:<{width}}  {row.mean_return:>11.1f}  {row.std_return:>8.1f}  {row.mean_length:>11.1f}")
    mean = float(frame["mean_return"].mean()) if len(frame) else math.nan
    lines.append(f"mean over {len(frame)} robots: {mean:.1f}")
    return "\n".join(lines)


def write_results_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the per-robot table atomically (temporary file, then rename)."""
    from workbench.files import atomic_write_text

    path = Path(path)
    atomic_write_text(path, frame.to_csv(index=False, float_format="%.4f"))
    return path
