"""On-disk layout of a distillation dataset: names, checksums, the manifest and shard files.

::

    DATASET/
      manifest.json             everything below, with sha256 checksums (written atomically)
      robots/xml/NAME.xml       each PD robot (UNIMAL layout, so ``load_robots(DATASET/robots)`` works)
      robots/metadata/NAME.json
      shards/NNNNN/             one shard per group of robots (written to a temporary folder, renamed
        shard.json              when complete): its own file list with shapes, dtypes and checksums
        proprioceptive.npy      (n, 12, 52) float32  raw observation
        heightmap.npy           (n, 1410) float32    VT / Obstacle only
        action_mean.npy         (n, 24) float32      the teacher's action mean
        robot.npy               (n,) int32           PD-robot index of each row (rows sorted by robot)
        context.npy             (r, 12, 53) float32  per robot of the shard
        limb_mask.npy           (r, 12) float32
        action_mask.npy         (r, 24) float32
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from workbench.errors import WorkbenchError
from workbench.files import sha256_file  # noqa: F401  (storage.sha256_file: the dataset's checksum)

FORMAT_NAME = "hyperdistill-workbench-dataset"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SHARD_INFO = "shard.json"
ROBOTS_DIR = "robots"
SHARDS_DIR = "shards"

# Per-transition arrays (rows sorted by robot) and per-robot static arrays of a shard.
TRANSITION_ARRAYS = ("proprioceptive", "heightmap", "action_mean", "robot")
ROBOT_ARRAYS = ("context", "limb_mask", "action_mask")


def write_json_atomic(path: str | Path, data: Any) -> None:
    from workbench.files import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


def read_json(path: str | Path, what: str) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise WorkbenchError(f"no {what}", path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise WorkbenchError(f"{what} is not readable JSON ({error.__class__.__name__})", path) from None
    if not isinstance(data, dict):
        raise WorkbenchError(f"{what} is not a JSON object", path)
    return data


def shard_dir_name(index: int) -> str:
    return f"{index:05d}"


def write_shard(root: Path, index: int, arrays: Mapping[str, np.ndarray], info: Mapping[str, Any]) -> dict[str, Any]:
    """Write one shard's arrays and ``shard.json`` into a temporary folder, then rename it into place.

    A kill at any moment leaves either no shard folder or a complete one (plus, at worst, a stale
    ``.tmp-*`` folder that the next run removes). Returns the shard's manifest entry.
    """
    shards = root / SHARDS_DIR
    shards.mkdir(parents=True, exist_ok=True)
    final = shards / shard_dir_name(index)
    tmp = shards / f".tmp-{shard_dir_name(index)}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    files: dict[str, Any] = {}
    for key, array in arrays.items():
        name = f"{key}.npy"
        with open(tmp / name, "wb") as handle:
            np.save(handle, np.ascontiguousarray(array), allow_pickle=False)
            handle.flush()
            os.fsync(handle.fileno())
        files[key] = {"file": name, "shape": list(array.shape), "dtype": str(array.dtype),
                      "sha256": sha256_file(tmp / name)}
    entry = {"index": index, "dir": f"{SHARDS_DIR}/{final.name}", "files": files, **info}
    write_json_atomic(tmp / SHARD_INFO, entry)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return entry


def remove_stale_temporaries(root: Path) -> None:
    """Delete half-written shard folders left by an interrupted collection."""
    shards = root / SHARDS_DIR
    if shards.is_dir():
        for path in shards.glob(".tmp-*"):
            shutil.rmtree(path, ignore_errors=True)


def check_shard_files(root: Path, entry: Mapping[str, Any], checksums: bool = True) -> None:
    """Raise WorkbenchError naming the first file of a shard that is missing, has the wrong size or
    (``checksums=True``) the wrong sha256."""
    folder = root / entry["dir"]
    for key, spec in entry["files"].items():
        path = folder / spec["file"]
        if not path.is_file():
            raise WorkbenchError(f"dataset file missing ({key} of shard {entry['index']})", path)
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as error:
            raise WorkbenchError(f"dataset file is truncated or not a .npy array ({error.__class__.__name__})",
                                 path) from None
        if list(array.shape) != list(spec["shape"]) or str(array.dtype) != spec["dtype"]:
            raise WorkbenchError(f"dataset file has shape {tuple(array.shape)} {array.dtype}, expected "
                                 f"{tuple(spec['shape'])} {spec['dtype']}", path)
        del array
        if checksums and sha256_file(path) != spec["sha256"]:
            raise WorkbenchError("dataset file is corrupted (sha256 checksum mismatch)", path)
