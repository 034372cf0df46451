"""Read a distillation dataset: manifest, checksums, memory-mapped shards, per-robot blocks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from workbench.distillation import storage
from workbench.envs import layout
from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class RobotBlock:
    """Where one PD robot's transitions are: rows ``[start, stop)`` of shard ``shard``."""

    shard: int
    start: int
    stop: int

    @property
    def count(self) -> int:
        return self.stop - self.start


class _DatasetReading:
    """What students read from a dataset, given ``manifest``, ``robots``, ``static`` and ``rows``."""

    manifest: dict[str, Any]
    robots: list[dict[str, Any]]
    static: dict[str, np.ndarray]

    def rows(self, robot: int, rows: np.ndarray) -> dict[str, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def task(self) -> str:
        return str(self.manifest["task"])

    @property
    def action_std(self) -> float:
        return float(self.manifest["teacher"]["action_std"])

    @property
    def num_robots(self) -> int:
        return len(self.robots)

    @property
    def has_heightmap(self) -> bool:
        return bool(self.manifest["shards"]) and "heightmap" in self.manifest["shards"][0]["files"]

    def robot_names(self) -> list[str]:
        return [r["name"] for r in self.robots]

    def training_robot_indices(self) -> list[int]:
        """PD robots that are the teacher's training robots (not mutants)."""
        return [i for i, r in enumerate(self.robots) if r["training_robot"]]

    def normalizer_state(self) -> dict[str, np.ndarray]:
        """The teacher's observation-normaliser buffers (float64 arrays)."""
        return {key: np.asarray(value, dtype=np.float64) for key, value in self.manifest["normalizer"].items()}

    def batch(self, robots: Sequence[int], rows: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
        """A robot-grouped minibatch: chunk c holds rows ``rows[c]`` (all the same length n) of robot
        ``robots[c]``. Returns per-transition arrays (C, n, ...) and per-chunk static arrays
        ``context`` (C, 12, 53), ``limb_mask`` (C, 12), ``action_mask`` (C, 24), ``robot`` (C,)."""
        parts = [self.rows(r, np.sort(np.asarray(idx))) for r, idx in zip(robots, rows)]
        out = {key: np.stack([p[key] for p in parts]) for key in parts[0]}
        index = np.asarray(robots, dtype=np.int64)
        for key in storage.ROBOT_ARRAYS:
            out[key] = self.static[key][index]
        out["robot"] = index
        return out


class DistillDataset(_DatasetReading):
    """A dataset written by :func:`workbench.distillation.collect_dataset`.

    Per-transition arrays are memory-mapped (``np.load(mmap_mode="r")``), so a dataset larger than
    RAM works; only the rows of a minibatch are read. Opening checks the manifest and each file's
    shape and dtype; :meth:`verify` also checks every file's sha256 (a flipped byte anywhere is a
    one-line :class:`WorkbenchError` naming the file).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        manifest = storage.read_json(self.root / storage.MANIFEST, "dataset manifest")
        if manifest.get("format") != storage.FORMAT_NAME:
            raise WorkbenchError("not a workbench distillation dataset manifest", self.root / storage.MANIFEST)
        if manifest.get("format_version") != storage.FORMAT_VERSION:
            raise WorkbenchError(f"dataset format version {manifest.get('format_version')} is not supported "
                                 f"(expected {storage.FORMAT_VERSION})", self.root / storage.MANIFEST)
        if not manifest.get("complete"):
            raise WorkbenchError("dataset is incomplete (collection was interrupted; rerun the same "
                                 "`workbench collect` command to finish it)", self.root)
        self.manifest = manifest
        self.robots: list[dict[str, Any]] = list(manifest["robots"])
        self.shards: list[dict[str, Any]] = sorted(manifest["shards"], key=lambda e: e["index"])
        for entry in self.shards:
            storage.check_shard_files(self.root, entry, checksums=False)
        self._arrays = [self._open(entry) for entry in self.shards]
        self.blocks = self._blocks()
        static = {key: np.concatenate([np.asarray(a[key]) for a in self._arrays]) for key in storage.ROBOT_ARRAYS}
        if len(static["context"]) != len(self.robots):
            raise WorkbenchError("dataset shards do not cover every robot of the manifest", self.root)
        self.static = {key: np.ascontiguousarray(value, dtype=np.float32) for key, value in static.items()}

    @property
    def roots(self) -> list[Path]:
        return [self.root]

    def _open(self, entry: dict[str, Any]) -> dict[str, np.ndarray]:
        folder = self.root / entry["dir"]
        return {key: np.load(folder / spec["file"], mmap_mode="r", allow_pickle=False)
                for key, spec in entry["files"].items()}

    def _blocks(self) -> list[RobotBlock]:
        blocks: dict[int, RobotBlock] = {}
        for position, arrays in enumerate(self._arrays):
            robot = np.asarray(arrays["robot"])
            if robot.size and np.any(np.diff(robot) < 0):
                raise WorkbenchError("shard rows are not sorted by robot", self.root / self.shards[position]["dir"])
            ids, starts, counts = np.unique(robot, return_index=True, return_counts=True)
            for r, s, c in zip(ids.tolist(), starts.tolist(), counts.tolist()):
                blocks[r] = RobotBlock(position, s, s + c)
        missing = [i for i in range(len(self.robots)) if i not in blocks]
        if missing:
            raise WorkbenchError(f"dataset has no transitions for robot {self.robots[missing[0]]['name']!r}", self.root)
        return [blocks[i] for i in range(len(self.robots))]

    @property
    def num_transitions(self) -> int:
        return int(sum(b.count for b in self.blocks))

    def counts(self) -> np.ndarray:
        """(R,) transitions per robot."""
        return np.asarray([b.count for b in self.blocks], dtype=np.int64)

    def morphology(self, index: int):
        """The Morphology of PD robot ``index`` (from its stored XML)."""
        from workbench.morphology import Morphology

        entry = self.robots[index]
        return Morphology.from_xml(self.root / entry["xml"])

    def describe(self) -> str:
        return (f"{self.num_robots} robots ({len(self.training_robot_indices())} training robots), "
                f"{self.num_transitions:,} transitions, {len(self.shards)} shards, task {self.task}")

    # ------------------------------------------------------------------ reading
    def verify(self, progress: bool = False) -> None:
        """Check every shard file's and robot XML's sha256; WorkbenchError naming the first bad file."""
        shards = self.shards
        if progress:
            from tqdm.auto import tqdm

            shards = tqdm(shards, unit="shard", desc="verify", dynamic_ncols=True, leave=False)
        for entry in shards:
            storage.check_shard_files(self.root, entry, checksums=True)
        for robot in self.robots:
            path = self.root / robot["xml"]
            if not path.is_file():
                raise WorkbenchError("robot XML of the dataset is missing", path)
            if storage.sha256_file(path) != robot["xml_sha256"]:
                raise WorkbenchError("robot XML is corrupted (sha256 checksum mismatch)", path)

    def rows(self, robot: int, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Transitions ``rows`` (indices in ``[0, count)``, any order) of one robot, read from the
        memory map: ``proprioceptive`` (n, 12, 52), ``action_mean`` (n, 24) (+ ``heightmap`` (n, 1410))."""
        block = self.blocks[robot]
        arrays = self._arrays[block.shard]
        index = np.asarray(rows, dtype=np.int64) + block.start
        out = {
            layout.OBS_PROPRIOCEPTIVE: np.asarray(arrays["proprioceptive"][index]),
            "action_mean": np.asarray(arrays["action_mean"][index]),
        }
        if "heightmap" in arrays:
            out[layout.OBS_HEIGHTMAP] = np.asarray(arrays["heightmap"][index])
        return out


class DatasetUnion(_DatasetReading):
    """Several datasets of the same robots and teacher read as one (the aggregate of DAgger rounds).

    Each robot's transitions are those of every part, in the order of ``parts``; row ``i`` of a robot
    is row ``i - offset`` of the first part whose block holds it. Everything a student needs besides
    the transitions (robots, teacher, its normalisation statistics) must be identical in every part.
    """

    def __init__(self, parts: Sequence[DistillDataset]) -> None:
        if len(parts) < 2:
            raise ValueError("a union needs at least two datasets")
        first = parts[0]

        def robot_keys(dataset: DistillDataset) -> list[tuple[str, str]]:
            return [(r["name"], r["fingerprint"]) for r in dataset.robots]

        for part in parts[1:]:
            where = part.root / storage.MANIFEST
            if robot_keys(part) != robot_keys(first):
                raise WorkbenchError(f"holds other robots than {first.root} (datasets combined must share "
                                     f"their PD robots: same --robots, --mutants-per-robot and --seed)", where)
            if part.manifest["teacher"]["sha256"] != first.manifest["teacher"]["sha256"]:
                raise WorkbenchError(f"was labelled by another teacher than {first.root}", where)
            if part.manifest["normalizer"] != first.manifest["normalizer"]:
                raise WorkbenchError(f"stores other normalisation statistics than {first.root}", where)
        self.parts = list(parts)
        self.manifest = first.manifest  # teacher, task and normaliser: the same in every part
        self.robots = first.robots
        self.static = first.static
        self._offsets = np.cumsum([np.zeros(first.num_robots, np.int64)] + [p.counts() for p in self.parts], axis=0)

    @property
    def roots(self) -> list[Path]:
        return [p.root for p in self.parts]

    @property
    def num_transitions(self) -> int:
        return int(sum(p.num_transitions for p in self.parts))

    def counts(self) -> np.ndarray:
        """(R,) transitions per robot, summed over the parts."""
        return self._offsets[-1].copy()

    def morphology(self, index: int):
        """The Morphology of PD robot ``index`` (the same in every part)."""
        return self.parts[0].morphology(index)

    def describe(self) -> str:
        return f"{len(self.parts)} datasets: " + "; ".join(p.describe() for p in self.parts)

    def verify(self, progress: bool = False) -> None:
        """Check every part's checksums (:meth:`DistillDataset.verify`)."""
        for part in self.parts:
            part.verify(progress=progress)

    def rows(self, robot: int, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Like :meth:`DistillDataset.rows`, over the robot's transitions of every part."""
        rows = np.asarray(rows, dtype=np.int64)
        part_of_row = np.searchsorted(self._offsets[1:, robot], rows, side="right")  # (n,) which part
        pieces: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
        for index in np.unique(part_of_row):
            where = np.flatnonzero(part_of_row == index)
            local = rows[where] - self._offsets[index, robot]
            pieces.append((where, self.parts[index].rows(robot, local)))
        out = {key: np.empty((rows.size,) + value.shape[1:], value.dtype) for key, value in pieces[0][1].items()}
        for where, values in pieces:
            for key, value in values.items():
                out[key][where] = value
        return out


def open_datasets(roots: Sequence[str | Path]) -> DistillDataset | DatasetUnion:
    """One dataset folder, or several of the same robots and teacher read as one."""
    parts = [DistillDataset(root) for root in roots]
    if not parts:
        raise ValueError("no dataset given")
    return parts[0] if len(parts) == 1 else DatasetUnion(parts)
