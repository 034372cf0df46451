"""The transfer curve: the same teacher recipe on the first 12, 25, 50, 100 training robots, each policy
evaluated on the same unseen robot sets.

For each size N the recipe is the warm start's: the first N per-robot specialists (shared by every
size, since the sets are prefixes) distilled into one ModuMorph (``warm_start``), then
``dagger_rounds`` DAgger rounds labelled by the specialists. Every stage resumes, and a size whose rows
are already in the CSV is skipped, so the command can be rerun until the curve is complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from workbench.analysis.evaluation import evaluate_policy
from workbench.distillation import CollectConfig, get_distill_config
from workbench.distillation.dagger import DaggerConfig, run_dagger
from workbench.distillation.warm_start import warm_start
from workbench.errors import WorkbenchError
from workbench.files import atomic_write_text
from workbench.morphology import load_robots
from workbench.training.trainer import load_robot_snapshot, snapshot_robots

CSV_COLUMNS = ("train_robots", "robot_set", "robots", "mean_return", "fraction_of_train", "policy")


@dataclass(frozen=True)
class TransferConfig:
    """One transfer curve."""

    sizes: tuple[int, ...] = (12, 25, 50, 100)
    """Training-set sizes: prefixes of the specialists' robots."""
    unseen: tuple[str, ...] = ("generated-test-v2",)
    """Robot sets every policy is evaluated on (suite names, directories)."""
    max_unseen_robots: int | None = None
    """Evaluate only the first robots of each unseen set (None: all)."""
    episodes: int = 8
    """Episodes per robot (mean action)."""
    dagger_rounds: int = 2
    """DAgger rounds after the warm start (0: the warm start alone)."""
    distill_config: str = "workbench-ft"
    """Named distillation configuration of the warm start."""
    distill_overrides: dict = field(default_factory=dict)
    """Fields of the distillation configuration to replace (e.g. epochs, model size)."""
    epochs_per_round: int = 20
    """Epochs of each DAgger round."""
    transitions_per_robot: int = 16000
    """Transitions each specialist records on its own robot."""
    envs_per_robot: int = 8
    """Parallel environments per robot while recording."""
    seed: int = 0
    """Seeds the recording, the distillation and the evaluation."""


def prefix_specialists(specialists_dir: Path, n: int, out: Path) -> Path:
    """A specialists folder of the first ``n`` robots of ``specialists_dir``: their robots snapshot and a
    link to each run (the runs themselves are shared)."""
    robots = load_robot_snapshot(specialists_dir)
    if robots is None:
        raise WorkbenchError("not a specialists directory (no robots/order.json)", specialists_dir)
    if n > len(robots):
        raise WorkbenchError(f"holds {len(robots)} specialists; a curve point of {n} robots needs more",
                             specialists_dir)
    snapshot_robots(robots[:n], out)
    for robot in robots[:n]:
        link = out / robot.name
        if not link.exists():
            link.symlink_to((specialists_dir / robot.name).resolve(), target_is_directory=True)
    return out


def _policy_for_size(specialists_dir: Path, n: int, out: Path, config: TransferConfig, progress: bool,
                     log: Callable[[str], None]) -> Path:
    """The recipe's policy on the first ``n`` robots (resumed where a stage already ran)."""
    root = out / f"n-{n:03d}"
    prefix = prefix_specialists(specialists_dir, n, root / "specialists")
    collect = CollectConfig(mutants_per_robot=0, transitions_per_robot=config.transitions_per_robot,
                            envs_per_robot=config.envs_per_robot, seed=config.seed)
    distill = get_distill_config(config.distill_config, seed=config.seed, eval_every=0, **config.distill_overrides)
    log(f"{n} robots: warm start")
    policy = warm_start(prefix, root / "data" / "warm-start", root / "warm-start", collect, distill,
                        progress=progress, log=log)
    if config.dagger_rounds:
        log(f"{n} robots: {config.dagger_rounds} DAgger rounds")
        policy = run_dagger(root / "data" / "warm-start", root / "warm-start", root / "data" / "dagger",
                            root / "dagger", DaggerConfig(rounds=config.dagger_rounds,
                                                          epochs_per_round=config.epochs_per_round),
                            progress=progress, log=log)
    return policy


def _read_rows(csv_path: Path) -> pd.DataFrame:
    if not csv_path.is_file():
        return pd.DataFrame(columns=list(CSV_COLUMNS))
    frame = pd.read_csv(csv_path)
    if list(frame.columns) != list(CSV_COLUMNS):
        raise WorkbenchError(f"is not a transfer-curve table (columns {', '.join(CSV_COLUMNS)})", csv_path)
    return frame


def transfer_curve(specialists_dir: str | Path, out: str | Path, csv_path: str | Path, config: TransferConfig,
                   progress: bool = False, log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Run the recipe for every size missing from ``csv_path`` and add its rows (written atomically
    after each size). Returns the whole table: one row per (size, robot set)."""
    specialists_dir, out, csv_path = Path(specialists_dir), Path(out), Path(csv_path)
    log = log or (lambda message: None)
    table = _read_rows(csv_path)
    unseen = {name: load_robots(name)[: config.max_unseen_robots] for name in config.unseen}
    for n in config.sizes:
        if (table["train_robots"] == n).any():
            log(f"{n} robots: in {csv_path}, skipped")
            continue
        policy = _policy_for_size(specialists_dir, n, out, config, progress, log)
        train_robots = load_robot_snapshot(out / f"n-{n:03d}" / "specialists")
        sets = {"train": train_robots, **unseen}
        means = {name: evaluate_policy(policy, robots, episodes=config.episodes, seed=config.seed,
                                       progress=progress).attrs["mean_return"] for name, robots in sets.items()}
        rows = [{"train_robots": n, "robot_set": name, "robots": len(sets[name]), "mean_return": mean,
                 "fraction_of_train": mean / means["train"] if means["train"] else float("nan"),
                 "policy": str(policy)} for name, mean in means.items()]
        table = pd.concat([table, pd.DataFrame(rows, columns=list(CSV_COLUMNS))], ignore_index=True)
        atomic_write_text(csv_path, table.to_csv(index=False))
        log(f"{n} robots: " + ", ".join(f"{name} {mean:.1f}" for name, mean in means.items()))
    return table


def transfer_figure(table: pd.DataFrame):
    """Plotly figure: mean return against the number of training robots, one line per robot set."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for name, rows in table.groupby("robot_set", sort=False):
        rows = rows.sort_values("train_robots")
        figure.add_trace(go.Scatter(x=rows["train_robots"], y=rows["mean_return"], mode="lines+markers", name=name,
                                    customdata=rows["fraction_of_train"],
                                    hovertemplate="%{x} robots: %{y:.1f} (%{customdata:.0%} of train)"))
    figure.update_layout(title="Transfer: return against the number of training robots",
                         xaxis_title="training robots", yaxis_title="mean return (mean action)",
                         xaxis_type="log")
    return figure
