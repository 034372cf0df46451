"""Collect a distillation dataset: the stochastic teacher on every PD robot, stored in shards.

Robots are split into fixed groups of ``robots_per_shard``; one shard is one group run in one vector
env (``envs_per_robot`` envs per robot, env i runs robot i % r). Each shard has its own seeds (env
resets and action noise from ``(seed, shard index)``), so a shard's content does not depend on which
shards ran before it: an interrupted collection keeps its finished shards (verified by checksum)
and rerunning the same command writes exactly the shards it would have written.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from workbench.distillation import storage
from workbench.distillation.pd_robots import PDRobot, build_pd_robots
from workbench.envs import layout
from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class CollectConfig:
    """Every setting of a collection (stored in the manifest; a resumed run must match it)."""

    mutants_per_robot: int = 9
    """Distinct mutants per training robot (the paper's Appendix B.1: 9, giving 1,000 PD robots)."""
    max_mutation_steps: int = 3
    """Mutation steps per mutant, uniform in {1, ..., max_mutation_steps} (the paper: 3)."""
    transitions_per_robot: int = 8000
    """Transitions stored per PD robot (the paper: 8 envs x 1,000 steps = 8,000)."""
    envs_per_robot: int = 8
    """Parallel environments per robot; each runs ceil(transitions / envs) steps."""
    robots_per_shard: int = 8
    """Robots per shard (= per vector env run; the unit of resumption)."""
    seed: int = 0
    """Seeds the mutants, the env resets and the teacher's action noise."""
    max_episode_steps: int | None = None
    """Episode length cap (None: the environment's default, 1,000 control steps)."""
    sim_threads: int | None = None
    """Physics threads of the vector env (None: its default)."""
    torch_threads: int = 1
    """torch threads for the teacher's forward passes (small batches run best single-threaded)."""
    noise_std: float | None = None
    """Std of the Gaussian noise added to the teacher's mean action while recording (None: the teacher's
    own std). The stored target is always the mean, and the students keep the teacher's std; a larger
    noise only spreads the recorded states around the teacher's gait (noise injection, as in DART)."""

    def validate(self) -> "CollectConfig":
        problems = []
        if self.mutants_per_robot < 0:
            problems.append("mutants_per_robot must be >= 0")
        if self.max_mutation_steps < 1:
            problems.append("max_mutation_steps must be >= 1")
        if self.transitions_per_robot < 1 or self.envs_per_robot < 1 or self.robots_per_shard < 1:
            problems.append("transitions_per_robot, envs_per_robot and robots_per_shard must be >= 1")
        if self.max_episode_steps is not None and self.max_episode_steps < 1:
            problems.append("max_episode_steps must be >= 1")
        if self.noise_std is not None and not self.noise_std >= 0:
            problems.append("noise_std must be >= 0")
        if problems:
            raise WorkbenchError("invalid collection settings: " + "; ".join(problems))
        return self

    @property
    def steps_per_env(self) -> int:
        return math.ceil(self.transitions_per_robot / self.envs_per_robot)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# Settings that change how fast a collection runs but not what it stores: may differ on a rerun.
_RUNTIME_FIELDS = ("sim_threads", "torch_threads")


def _env_config(config: CollectConfig):
    from workbench.envs import EnvConfig

    if config.max_episode_steps is None:
        return EnvConfig()
    return EnvConfig(max_episode_steps=config.max_episode_steps)


def _save_robots(root: Path, robots: Sequence[PDRobot]) -> list[dict[str, Any]]:
    """Write each robot's XML (UNIMAL layout) unless an identical file is there; manifest entries."""
    entries = []
    xml_dir = root / storage.ROBOTS_DIR / "xml"
    for index, robot in enumerate(robots):
        path = xml_dir / f"{robot.name}.xml"
        text = robot.morphology.to_xml()
        if not path.is_file() or path.read_text() != text:
            robot.morphology.save(path, extra_metadata={"parent": robot.parent, "pd_mutations": list(robot.mutations)})
        entries.append({
            "index": index, "name": robot.name, "parent": robot.parent, "mutations": list(robot.mutations),
            "training_robot": robot.is_training_robot, "fingerprint": robot.fingerprint,
            "xml": f"{storage.ROBOTS_DIR}/xml/{path.name}", "xml_sha256": storage.sha256_file(path),
        })
    return entries


def _identity(teacher, behaviour, config: CollectConfig, robots: Sequence[PDRobot]) -> dict[str, Any]:
    """What a rerun must match to continue a collection."""
    stored = {k: v for k, v in config.to_dict().items() if k not in _RUNTIME_FIELDS}
    if stored["noise_std"] is None:  # datasets from before the setting existed still match
        del stored["noise_std"]
    identity = {
        "teacher_sha256": teacher.sha256,
        "config": stored,
        "robots": [[r.name, r.fingerprint] for r in robots],
    }
    if behaviour is not None:  # likewise: only datasets recorded under another policy carry the key
        identity["behaviour_sha256"] = behaviour.sha256
    return identity


def collect_dataset(teacher_path: str | Path, robots_spec: Any, out: str | Path, config: CollectConfig,
                    progress: bool = False, log: Callable[[str], None] | None = None,
                    behaviour_path: str | Path | None = None) -> dict[str, Any]:
    """Build the PD set of ``robots_spec`` (the training robots), run the teacher on it and write the
    dataset to ``out``; continue an interrupted collection into the same ``out``.

    With ``behaviour_path`` another policy (typically a student) acts, with the same noise, and the
    teacher only labels the states it visits: one DAgger round (Ross et al., 2011). The student then
    learns the teacher's actions on the states its own mistakes lead to, which plain behaviour
    cloning never shows it.

    Returns the final manifest (also in ``out/manifest.json``).
    """
    import torch

    from workbench.distillation.teacher import load_teacher
    from workbench.morphology import load_robots

    config.validate()
    log = log or (lambda message: None)
    root = Path(out)
    teacher = load_teacher(teacher_path)
    behaviour = load_teacher(behaviour_path) if behaviour_path is not None else None
    if behaviour is not None and behaviour.task != teacher.task:
        raise WorkbenchError(f"the behaviour policy is for task {behaviour.task!r}, the teacher for "
                             f"{teacher.task!r}", behaviour_path)
    training = load_robots(robots_spec)
    pd_robots, report = build_pd_robots(training, config.mutants_per_robot, config.seed, config.max_mutation_steps)
    names = [r.name for r in pd_robots]
    if len(set(names)) != len(names):
        raise WorkbenchError("PD robot names are not unique (rename the training robots)")
    if report.duplicate_training_robots:
        log(f"dropped {len(report.duplicate_training_robots)} duplicate training robot(s): "
            f"{', '.join(report.duplicate_training_robots)}")
    if report.dropped_duplicate_mutants:
        log(f"dropped {report.dropped_duplicate_mutants} duplicate mutant draw(s)")
    if report.short_robots:
        log(f"{len(report.short_robots)} robot(s) got fewer than {config.mutants_per_robot} distinct mutants")

    manifest_path = root / storage.MANIFEST
    previous = storage.read_json(manifest_path, "dataset manifest") if manifest_path.exists() else None
    own = {storage.MANIFEST, storage.ROBOTS_DIR, storage.SHARDS_DIR}
    if previous is None and root.exists() and any(p.name not in own for p in root.iterdir()):
        raise WorkbenchError("output folder holds other files and no dataset manifest", root)
    identity = _identity(teacher, behaviour, config, pd_robots)
    if previous is not None and previous.get("identity") != identity:
        raise WorkbenchError("holds a dataset collected with another teacher, robot set or settings; "
                             "choose another --out", manifest_path)
    groups = [list(range(start, min(start + config.robots_per_shard, len(pd_robots))))
              for start in range(0, len(pd_robots), config.robots_per_shard)]
    root.mkdir(parents=True, exist_ok=True)
    finished = _finished_shards(root, previous, len(groups), log)
    if previous is not None and previous.get("complete") and len(finished) == len(groups):
        # Leave a finished dataset byte for byte as it is: distillation runs recognise their dataset
        # by its manifest's checksum, and a rerun that merely names the teacher or the behaviour
        # policy by another path (or from another folder) must not make them strangers to it.
        log("the dataset is complete and its shards pass their checksums: nothing to collect")
        return previous
    storage.remove_stale_temporaries(root)
    robot_entries = _save_robots(root, pd_robots)
    manifest: dict[str, Any] = {
        "format": storage.FORMAT_NAME,
        "format_version": storage.FORMAT_VERSION,
        "task": teacher.task,
        "teacher": {"path": str(teacher.path), "sha256": teacher.sha256, "action_std": teacher.action_std,
                    "config": _config_dict(teacher.config)},
        "behaviour": None if behaviour is None else {"path": str(behaviour.path), "sha256": behaviour.sha256},
        "normalizer": teacher.normalizer_state(),
        "collect_config": config.to_dict(),
        "robots_spec": _describe_spec(robots_spec),
        "identity": identity,
        "robots": robot_entries,
        "num_shards": len(groups),
        "shards": [finished[i] for i in sorted(finished)],
        "complete": False,
    }
    _write_manifest(root, manifest)

    env_config = _env_config(config)
    todo = [i for i in range(len(groups)) if i not in finished]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(pd_robots) * config.transitions_per_robot, unit="transition", desc="collect",
                   dynamic_ncols=True, unit_scale=True)
        bar.update(sum(len(groups[i]) for i in finished) * config.transitions_per_robot)
    threads = torch.get_num_threads()
    torch.set_num_threads(config.torch_threads)
    try:
        for index in todo:
            group = groups[index]
            arrays = _run_group(teacher, [pd_robots[i] for i in group], group, index, config, env_config, bar,
                                behaviour=behaviour)
            entry = storage.write_shard(root, index, arrays, {
                "robots": [group[0], group[-1] + 1],
                "transitions": int(arrays["robot"].shape[0]),
            })
            finished[index] = entry
            manifest["shards"] = [finished[i] for i in sorted(finished)]
            _write_manifest(root, manifest)
    finally:
        torch.set_num_threads(threads)
        if bar is not None:
            bar.close()
    manifest["complete"] = True
    manifest["num_transitions"] = int(sum(e["transitions"] for e in manifest["shards"]))
    _write_manifest(root, manifest)
    return manifest


def _describe_spec(spec: Any) -> Any:
    """The ``--robots`` argument as plain JSON (Morphology objects by name)."""
    if isinstance(spec, (list, tuple)):
        return [_describe_spec(item) for item in spec]
    if hasattr(spec, "to_xml"):
        return str(spec.name)
    return str(spec)


def _config_dict(config: Any) -> dict[str, Any]:
    from workbench.models import config_to_dict

    return config_to_dict(config)


def _write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    storage.write_json_atomic(root / storage.MANIFEST, manifest)


def _finished_shards(root: Path, previous: dict[str, Any] | None, num_shards: int,
                     log: Callable[[str], None]) -> dict[int, dict[str, Any]]:
    """Shards already on disk whose files pass their checksums (listed in the manifest, or complete
    folders written just before an interruption reached the manifest)."""
    candidates: dict[int, dict[str, Any]] = {}
    if previous is not None:
        for entry in previous.get("shards", []):
            candidates[int(entry["index"])] = entry
    for index in range(num_shards):
        info = root / storage.SHARDS_DIR / storage.shard_dir_name(index) / storage.SHARD_INFO
        if index not in candidates and info.is_file():
            try:
                candidates[index] = storage.read_json(info, "shard description")
            except WorkbenchError:
                continue
    finished: dict[int, dict[str, Any]] = {}
    for index, entry in sorted(candidates.items()):
        if index >= num_shards:
            continue
        try:
            storage.check_shard_files(root, entry, checksums=True)
        except WorkbenchError as error:
            log(f"recollecting shard {index}: {error}")
            continue
        finished[index] = entry
    if finished:
        log(f"keeping {len(finished)} finished shard(s) of {num_shards}")
    return finished


def _run_group(teacher, robots: Sequence[PDRobot], indices: Sequence[int], shard: int, config: CollectConfig,
               env_config, bar, behaviour=None) -> dict[str, np.ndarray]:
    """Run the stochastic teacher (or ``behaviour``, labelled by the teacher) on one group of robots;
    rows sorted by robot, ``transitions_per_robot`` each (step-major within a robot)."""
    from workbench.envs import VectorUnimalEnv

    r = len(robots)
    num_envs = r * config.envs_per_robot
    steps = config.steps_per_env
    env = VectorUnimalEnv([p.morphology for p in robots], num_envs, task=teacher.task, config=env_config,
                          num_threads=config.sim_threads)
    rng = np.random.default_rng([config.seed, shard, 1])
    try:
        env.set_robot_probabilities(None)  # env i runs robot i % r for the whole collection
        obs, _ = env.reset(seed=int(np.random.default_rng([config.seed, shard, 0]).integers(2**31)))
        first = np.arange(r)  # envs 0..r-1 run robots 0..r-1
        static = {key: np.asarray(obs[key])[first].copy() for key in storage.ROBOT_ARRAYS}
        fingerprints = [p.fingerprint for p in robots]
        teacher.set_robots(static["context"], static["limb_mask"], fingerprints)
        if behaviour is not None:
            behaviour.set_robots(static["context"], static["limb_mask"], fingerprints)
        heightmap = layout.OBS_HEIGHTMAP in obs
        noise_std = teacher.action_std if config.noise_std is None else config.noise_std
        proprio = np.empty((steps, num_envs, layout.MAX_LIMBS, layout.PROPRIOCEPTIVE.size), np.float32)
        hmap = np.empty((steps, num_envs, layout.HEIGHTMAP_SIZE), np.float32) if heightmap else None
        means = np.empty((steps, num_envs, layout.ACTION_DIM), np.float32)
        robot = np.empty((steps, num_envs), np.int64)
        for t in range(steps):
            robot[t] = env.robot_index
            proprio[t] = obs[layout.OBS_PROPRIOCEPTIVE]
            if hmap is not None:
                hmap[t] = obs[layout.OBS_HEIGHTMAP]
            mean = teacher.action_mean(obs, robot[t])
            means[t] = mean
            acting = mean if behaviour is None else behaviour.action_mean(obs, robot[t])
            noise = rng.standard_normal(mean.shape).astype(np.float32)
            action = np.clip(acting + noise_std * noise, -1.0, 1.0)
            obs, _reward, _terminated, _truncated, _info = env.step(action)
            if bar is not None:
                bar.update(r * config.transitions_per_robot / steps)
    finally:
        env.close()
    if not np.array_equal(robot, np.broadcast_to(np.arange(num_envs) % r, robot.shape)):
        raise RuntimeError("the vector env changed the robot of an env during collection")
    flat_robot = robot.reshape(-1)
    rows = np.concatenate([np.flatnonzero(flat_robot == j)[: config.transitions_per_robot] for j in range(r)])
    out = {
        "proprioceptive": proprio.reshape(-1, *proprio.shape[2:])[rows],
        "action_mean": means.reshape(-1, layout.ACTION_DIM)[rows],
        "robot": np.asarray(indices, dtype=np.int32)[flat_robot[rows]],
        **static,
    }
    if hmap is not None:
        out["heightmap"] = hmap.reshape(-1, layout.HEIGHTMAP_SIZE)[rows]
    return out
