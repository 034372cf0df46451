"""Warm start of a universal teacher: behaviour-clone per-robot specialists into one ModuMorph.

PPO alone trains a universal policy slowly on this CPU; per-robot specialists (``train-specialists``)
learn their robots fast. The warm start records every specialist on its own robot (the ensemble as
one teacher, no mutants), distils that dataset into the teacher's architecture with the usual
distillation loss, and leaves ``OUT/student.pt``; ``train-teacher --init-policy OUT/student.pt``
then goes on with PPO on the universal policy. Both halves resume like their own commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from workbench.distillation.collect import CollectConfig, collect_dataset
from workbench.distillation.config import DistillConfig
from workbench.distillation.trainer import STATE_FILE, Distiller
from workbench.errors import WorkbenchError

WARM_START_STUDENT = "modumorph"  # the teacher's architecture


def warm_start(specialists_dir: str | Path, dataset_dir: str | Path, out_dir: str | Path,
               collect_config: CollectConfig, distill_config: DistillConfig, progress: bool = False,
               log: Callable[[str], None] | None = None) -> Path:
    """Collect the specialists' dataset into ``dataset_dir`` and distil it into a ModuMorph in ``out_dir``.

    Returns the path of the distilled policy (``out_dir/student.pt``). Rerunning after an interruption
    keeps finished shards and resumes the distillation from its last checkpoint.
    """
    from workbench.distillation.dataset import DistillDataset
    from workbench.training.trainer import ROBOTS_DIR

    if collect_config.mutants_per_robot != 0:
        raise WorkbenchError("a warm start records the specialists on their own robots only (no mutants)")
    log = log or (lambda message: None)
    collect_dataset(specialists_dir, str(Path(specialists_dir) / ROBOTS_DIR), dataset_dir, collect_config,
                    progress=progress, log=log)
    dataset = DistillDataset(dataset_dir)  # collect_dataset checksummed every shard it kept or wrote
    out_dir = Path(out_dir)
    resume = (out_dir / STATE_FILE).is_file()
    distiller = Distiller(distill_config, dataset, WARM_START_STUDENT, out_dir, resume=resume, log=log)
    distiller.train(progress=progress)
    return out_dir / "student.pt"
