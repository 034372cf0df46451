"""DAgger rounds after a distillation (Ross et al., 2011): the student acts, the teacher labels.

A student trained by behaviour cloning only ever saw the teacher's states; its own small errors lead
it to states the teacher never visited, where it has learnt nothing, and the errors compound. Each
round here (1) records the latest student on the PD robots of the first dataset, with the teacher's
action means as the targets (``collect_dataset(..., behaviour_path=...)``), then (2) goes on
distilling that student on every dataset so far, read as one (``DatasetUnion``).

Everything but the number of rounds and the epochs per round is taken from what already exists, so
the rounds cannot drift from the first distillation: the teacher, training robots and collection
settings from the first dataset (the same settings give the same PD robots), the student and its
optimisation settings from the first run's ``config.json``. Layout::

    DATA_DIR/round-K/     dataset of round K (large: keep it out of git)
    OUT/round-K/          distillation run of round K (student.pt, metrics.csv, config.json)
    OUT/rounds.csv        one row per finished round
    OUT/student.pt        the last round's student

Rerunning the same command after an interruption keeps finished shards and runs, and resumes the
rest from their checkpoints.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from workbench.distillation import storage
from workbench.distillation.collect import CollectConfig, collect_dataset
from workbench.distillation.config import DistillConfig
from workbench.distillation.dataset import DatasetUnion, DistillDataset
from workbench.distillation.trainer import CONFIG_FILE, STATE_FILE, STUDENT_FILE, Distiller, dataset_identity
from workbench.errors import WorkbenchError
from workbench.files import atomic_write_bytes, atomic_write_text

ROUNDS_FILE = "rounds.csv"
ROUND_COLUMNS = ("round", "datasets", "transitions", "epochs", "loss")  # + the run's return_* columns


@dataclass(frozen=True)
class DaggerConfig:
    """The settings DAgger adds to the first distillation's."""

    rounds: int = 2
    """DAgger rounds after the first distillation (each: one collection, one distillation)."""
    epochs_per_round: int = 20
    """Epochs of each round's distillation, over every dataset so far."""
    threads: int | None = None
    """torch threads of the distillations (None: the first run's setting)."""

    def validate(self) -> "DaggerConfig":
        if self.rounds < 1 or self.epochs_per_round < 1:
            raise WorkbenchError("DAgger needs rounds >= 1 and epochs_per_round >= 1")
        if self.threads is not None and self.threads < 1:
            raise WorkbenchError("threads must be >= 1")
        return self


def first_distillation(run_dir: str | Path) -> tuple[str, DistillConfig, Path, str]:
    """The student method, settings, ``student.pt`` and dataset identity of a ``workbench distill`` run."""
    run_dir = Path(run_dir)
    stored = storage.read_json(run_dir / CONFIG_FILE, "distillation run configuration")
    student = run_dir / STUDENT_FILE
    if not student.is_file():
        raise WorkbenchError("the distillation run has no student.pt yet", run_dir)
    try:
        return (str(stored["student"]), DistillConfig.from_dict(stored["config"]), student,
                str(stored["dataset_sha256"]))
    except (KeyError, TypeError):
        raise WorkbenchError("not a workbench distill configuration", run_dir / CONFIG_FILE) from None


def run_dagger(dataset_dir: str | Path, first_run: str | Path, data_dir: str | Path, out: str | Path,
               config: DaggerConfig, progress: bool = False, log: Callable[[str], None] | None = None) -> Path:
    """Run ``config.rounds`` DAgger rounds after the distillation ``first_run`` of ``dataset_dir``.

    Returns the last round's student (also copied to ``out/student.pt``).
    """
    config.validate()
    log = log or (lambda message: None)
    first = DistillDataset(dataset_dir)
    first.verify(progress=progress)  # the rounds' own datasets are checksummed by collect_dataset
    manifest = first.manifest
    teacher = Path(manifest["teacher"]["path"])
    if not teacher.exists():
        raise WorkbenchError(f"the dataset's teacher {teacher} is not there (run from the folder it was "
                             f"collected in)", first.root / storage.MANIFEST)
    collect_config = CollectConfig(**manifest["collect_config"])
    # The training robots as the first dataset stored them: the same settings rebuild the same PD robots
    # (DatasetUnion checks every name and fingerprint).
    robots = [first.morphology(i) for i in first.training_robot_indices()]
    method, distill_config, student, first_dataset = first_distillation(first_run)
    if first_dataset != dataset_identity(first):
        raise WorkbenchError(f"was not distilled from {first.root} (its dataset_sha256 differs)",
                             Path(first_run) / CONFIG_FILE)
    if config.threads is not None:
        distill_config = distill_config.replace(threads=config.threads)
    out, data_dir = Path(out), Path(data_dir)
    parts = [first]
    rows: list[dict[str, Any]] = []
    for k in range(1, config.rounds + 1):
        log(f"DAgger round {k}/{config.rounds}: recording {student} with {teacher} as the teacher")
        round_data = data_dir / f"round-{k}"
        collect_dataset(teacher, robots, round_data, collect_config, progress=progress, log=log,
                        behaviour_path=student)
        parts.append(DistillDataset(round_data))
        union = DatasetUnion(parts)
        run_dir = out / f"round-{k}"
        round_config = distill_config.replace(epochs=config.epochs_per_round, init_policy=str(student))
        distiller = Distiller(round_config, union, method, run_dir, resume=(run_dir / STATE_FILE).is_file(), log=log)
        distiller.train(progress=progress)
        student = run_dir / STUDENT_FILE
        rows.append({"round": k, "datasets": len(parts), "transitions": union.num_transitions,
                     "epochs": distiller.epoch, **_last_epoch(run_dir)})
    out.mkdir(parents=True, exist_ok=True)
    _write_rounds(out / ROUNDS_FILE, rows)
    final = out / STUDENT_FILE
    atomic_write_bytes(final, student.read_bytes())
    return final


def _last_epoch(run_dir: Path) -> dict[str, str]:
    """The loss and any evaluated returns of the run's last epoch (as written in its metrics.csv)."""
    from workbench.distillation.metrics import EVAL_PREFIX
    from workbench.training.metrics import last_metrics_row

    row = last_metrics_row(run_dir) or {}
    return {key: value for key, value in row.items() if key == "loss" or key.startswith(EVAL_PREFIX)}


def _write_rounds(path: Path, rows: list[dict[str, Any]]) -> None:
    columns = list(ROUND_COLUMNS) + sorted({key for row in rows for key in row} - set(ROUND_COLUMNS))
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, text.getvalue())
