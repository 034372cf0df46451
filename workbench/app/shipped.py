"""What the checkpoints folder holds: the shipped teacher, its students, their metrics and results.

The layout (every part optional; the app says what is missing)::

    ROOT/teacher-ft/policy.pt, metrics.csv, config.json, robots/, eval-*.csv
    ROOT/teacher-ft-wide/policy.pt (the best universal policy, beside the students' teacher)
    ROOT/specialists-ft/<robot>/metrics.csv and ROOT/warm-start-ft/metrics.csv (the teacher's warm start)
    ROOT/warm-start-dagger-ft/round-<k>/metrics.csv (DAgger rounds on the warm start: the teacher)
    ROOT/distill-ft/<student>/student.pt, metrics.csv, config.json
    ROOT/results-ft.csv

ROOT is ``$WORKBENCH_CHECKPOINTS`` when set (tests point the app at a temporary folder), else
``checkpoints/`` of the repository.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench.errors import WorkbenchError

ENV_VAR = "WORKBENCH_CHECKPOINTS"
TEACHER_DIR = "teacher-ft"
WIDE_TEACHER_DIR = "teacher-ft-wide"
STUDENTS_DIR = "distill-ft"
SPECIALISTS_DIR = "specialists-ft"
WARM_START_DIR = "warm-start-ft"
TEACHER_DAGGER_DIR = "warm-start-dagger-ft"
RESULTS_FILE = "results-ft.csv"
# Known students first, in the paper's order; other run folders follow alphabetically.
STUDENT_ORDER = ("hyperdistill", "mlp", "tf-compressed", "modumorph-compressed")


def checkpoints_root() -> Path:
    """``$WORKBENCH_CHECKPOINTS``, else the repository's ``checkpoints/`` folder."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return Path(__file__).resolve().parents[2] / "checkpoints"


@dataclass(frozen=True)
class StudentRun:
    """One distillation run folder."""

    name: str
    """Folder name under distill-ft/ (the method's name in the results table)."""
    method: str
    """Student method from the run's config.json (``hyperdistill``, ``mlp``, ...), else the folder name."""
    checkpoint: Path | None
    """student.pt, None while the run has not finished its first epoch."""
    metrics: Path | None
    """metrics.csv (one row per epoch), None when absent."""

    @property
    def is_hypernetwork(self) -> bool:
        return self.method == "hyperdistill"


@dataclass(frozen=True)
class Shipped:
    """The files found under one checkpoints root (None / empty where absent)."""

    root: Path
    teacher: Path | None
    """policy.pt: the finished teacher, or the latest checkpoint of a run still training."""
    teacher_metrics: Path | None
    teacher_evals: tuple[Path, ...]
    students: tuple[StudentRun, ...]
    results: Path | None
    specialists: tuple[tuple[str, Path], ...] = ()
    """(robot, metrics.csv) of each per-robot specialist of the teacher's warm start."""
    warm_start_metrics: Path | None = None
    """metrics.csv of the warm start's distillation (loss per epoch)."""
    teacher_dagger_rounds: tuple[tuple[int, Path], ...] = ()
    """(round, metrics.csv) of each DAgger round that went on from the warm start, in order."""
    wide_teacher: Path | None = None
    """policy.pt of the wider ModuMorph: a better teacher than ``teacher``, which the students learnt from."""

    @property
    def hypernetworks(self) -> tuple[StudentRun, ...]:
        """Finished HyperDistill students (they can generate MLPs)."""
        return tuple(s for s in self.students if s.is_hypernetwork and s.checkpoint is not None)

    def best_hypernetwork(self, robot_set: str = "train") -> StudentRun | None:
        """The finished HyperDistill student with the highest mean return on ``robot_set`` in the results
        table (the first one where the table is absent or does not list any of them)."""
        candidates = self.hypernetworks
        if not candidates:
            return None
        try:
            table = read_table(self.results) if self.results is not None else None
        except WorkbenchError:
            table = None
        if table is not None and {"method", "robot_set", "mean_return"} <= set(table.columns):
            rows = table[table["robot_set"] == robot_set].set_index("method")["mean_return"]
            scored = [run for run in candidates if run.name in rows.index]
            if scored:
                return max(scored, key=lambda run: float(rows[run.name]))
        return candidates[0]

    def missing(self) -> list[str]:
        """What is not there yet, one short item per kind of file."""
        items = []
        if self.teacher is None:
            items.append(f"teacher ({TEACHER_DIR}/policy.pt)")
        if not any(s.checkpoint for s in self.students):
            items.append(f"students ({STUDENTS_DIR}/<student>/student.pt)")
        if self.results is None:
            items.append(f"results ({RESULTS_FILE})")
        return items


def _file(path: Path) -> Path | None:
    return path if path.is_file() else None


def _student_method(run_dir: Path) -> str:
    """The run's ``config.json`` "student"; else the one its ``student.pt`` records (DAgger outputs and
    averaged students have no config.json of their own); else the folder name."""
    try:
        method = json.loads((run_dir / "config.json").read_text()).get("student")
    except (OSError, ValueError, AttributeError):
        method = _checkpoint_student(run_dir / "student.pt")
    return method if isinstance(method, str) and method else run_dir.name


def _checkpoint_student(path: Path) -> str | None:
    """The student method recorded in a student checkpoint (weights not loaded); None where the file
    is missing, unreadable or records none."""
    from workbench.models.checkpoint import read_checkpoint_extra

    try:
        record = read_checkpoint_extra(path).get("distillation")
    except WorkbenchError:  # discovery never raises: an unreadable file has no method
        return None
    return record.get("student") if isinstance(record, dict) else None


def _student_sort_key(name: str) -> tuple[int, str]:
    return (STUDENT_ORDER.index(name), "") if name in STUDENT_ORDER else (len(STUDENT_ORDER), name)


def discover(root: Path | None = None) -> Shipped:
    """Look at ``root`` (default :func:`checkpoints_root`) and list what is there; never raises."""
    root = checkpoints_root() if root is None else Path(root)
    teacher_dir = root / TEACHER_DIR
    evals = tuple(sorted(teacher_dir.glob("eval-*.csv"))) if teacher_dir.is_dir() else ()
    students_dir = root / STUDENTS_DIR
    runs = []
    if students_dir.is_dir():
        for run_dir in sorted((p for p in students_dir.iterdir() if p.is_dir()), key=lambda p: _student_sort_key(p.name)):
            checkpoint, metrics = _file(run_dir / "student.pt"), _file(run_dir / "metrics.csv")
            if checkpoint or metrics:
                runs.append(StudentRun(run_dir.name, _student_method(run_dir), checkpoint, metrics))
    from workbench.training.specialists import specialist_dirs

    try:
        specialists = tuple((name, run / "metrics.csv") for name, run in specialist_dirs(root / SPECIALISTS_DIR)
                            if (run / "metrics.csv").is_file())
    except WorkbenchError:  # no specialists shipped (or not a specialists folder)
        specialists = ()
    return Shipped(root=root, teacher=_file(teacher_dir / "policy.pt"), teacher_metrics=_file(teacher_dir / "metrics.csv"),
                   teacher_evals=evals, students=tuple(runs), results=_file(root / RESULTS_FILE),
                   specialists=specialists, warm_start_metrics=_file(root / WARM_START_DIR / "metrics.csv"),
                   teacher_dagger_rounds=_dagger_rounds(root / TEACHER_DAGGER_DIR),
                   wide_teacher=_file(root / WIDE_TEACHER_DIR / "policy.pt"))


def _dagger_rounds(dagger_dir: Path) -> tuple[tuple[int, Path], ...]:
    """(k, round-k/metrics.csv) of a `workbench dagger` output folder, by round number."""
    rounds = []
    for path in dagger_dir.glob("round-*/metrics.csv") if dagger_dir.is_dir() else ():
        number = path.parent.name.removeprefix("round-")
        if number.isdigit():
            rounds.append((int(number), path))
    return tuple(sorted(rounds))


def teacher_total_steps(shipped: Shipped) -> int | None:
    """The teacher run's planned environment steps (``total_steps`` of its config.json), if readable."""
    try:
        total = json.loads((shipped.root / TEACHER_DIR / "config.json").read_text()).get("total_steps")
    except (OSError, ValueError, AttributeError):
        return None
    return int(total) if isinstance(total, (int, float)) and total > 0 else None


def read_table(path: Path) -> pd.DataFrame:
    """A CSV written by the library, as a DataFrame; WorkbenchError when unreadable.

    Metrics files grow while a run trains: a half-written last line is skipped, not an error.
    """
    try:
        frame = pd.read_csv(path, on_bad_lines="skip")
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise WorkbenchError(f"not a readable CSV ({error.__class__.__name__})", path) from None
    return frame
