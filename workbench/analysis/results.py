"""The results table of a distillation study: every policy on every robot set, with its cost.

One row per (method, robot set): mean return (mean over robots of the per-robot mean return, the
paper's protocol), its standard error over robots, and the policy's parameters and FLOPs per step at
inference (``workbench.analysis.flops``, from the policy's configuration; a generated MLP's own
arrays). Per-policy evaluations are kept as CSVs beside an ``index.json``, so the table and the plot
can be rebuilt from them without simulating again (:func:`table_from_index`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.files import atomic_write_text

TABLE_COLUMNS = ("method", "robot_set", "mean_return", "std_error", "robots", "episodes", "params", "flops",
                 "vs_teacher")
INDEX_FILE = "index.json"


@dataclass(frozen=True)
class PolicyCost:
    """Inference-time size and cost of a policy."""

    params: int
    flops: int


def policy_cost(path: str | Path) -> PolicyCost:
    """Parameters and FLOPs per step of a checkpoint (from its configuration, the paper's Appendix B.2
    counting) or of a generated-MLP ``.npz`` (its arrays)."""
    path = Path(path)
    if path.suffix == ".npz":
        from workbench.deploy import load_mlp

        mlp = load_mlp(path)
        return PolicyCost(mlp.num_parameters, mlp.flops_per_step)
    from workbench.analysis.flops import count_policy
    from workbench.models import load_checkpoint

    count = count_policy(load_checkpoint(path).config)
    return PolicyCost(int(count.params), int(count.flops))


def summarize(frame: pd.DataFrame) -> tuple[float, float]:
    """(mean over robots of the per-robot mean return, standard error of that mean over robots)."""
    values = frame["mean_return"].to_numpy(dtype=np.float64)
    if len(values) == 0:
        return math.nan, math.nan
    sem = float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan
    return float(np.mean(values)), sem


def file_sha256(path: str | Path) -> str:
    from workbench.distillation.storage import sha256_file

    return sha256_file(path)


def evaluate_policies(policies: Mapping[str, str | Path], robot_sets: Mapping[str, Any], evals_dir: str | Path,
                      task: str = "ft", episodes: int = 16, seed: int = 0, max_episode_steps: int | None = None,
                      max_robots: int | None = None, deploy_hypernetworks: bool = False, progress: bool = False,
                      log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Evaluate every policy on every robot set (``evaluate_policy``), one CSV per pair in
    ``evals_dir`` plus ``index.json``. A pair whose CSV was already made with the same policy file
    (sha256), robots and settings is reused, so an interrupted run continues where it stopped.

    ``deploy_hypernetworks``: run HyperDistill checkpoints the deployment way (each robot's MLP
    generated once, numpy), the same actions up to float rounding and much faster than generating
    the weights at every step.

    Returns the index (also written to ``evals_dir/index.json``).
    """
    from workbench.analysis.evaluation import deployed_hypernetwork_adapter, evaluate_policy, write_results_csv
    from workbench.distillation.storage import read_json, write_json_atomic
    from workbench.envs import EnvConfig
    from workbench.morphology import load_robots

    log = log or (lambda message: None)
    evals_dir = Path(evals_dir)
    evals_dir.mkdir(parents=True, exist_ok=True)
    index_path = evals_dir / INDEX_FILE
    old = read_json(index_path, "results index") if index_path.is_file() else {"entries": []}
    previous = {(e["method"], e["robot_set"]): e for e in old.get("entries", [])}
    env_config = EnvConfig(max_episode_steps=max_episode_steps) if max_episode_steps else None
    settings = {"task": task, "episodes": episodes, "seed": seed, "max_episode_steps": max_episode_steps,
                "max_robots": max_robots}
    index: dict[str, Any] = {"settings": settings, "methods": list(policies), "robot_sets": list(robot_sets),
                             "entries": []}
    robots_of = {name: list(load_robots(spec))[:max_robots] for name, spec in robot_sets.items()}
    done: dict[tuple[str, str], dict[str, Any]] = {}
    for method, path in policies.items():
        cost = policy_cost(path)
        digest = file_sha256(path)
        deployed = deploy_hypernetworks and _is_hypernetwork(path)
        for set_name, spec in robot_sets.items():
            csv_name = f"{_slug(method)}__{_slug(set_name)}.csv"
            entry = {"method": method, "robot_set": set_name, "robots_spec": str(spec), "csv": csv_name,
                     "policy": str(path), "policy_sha256": digest, "params": cost.params, "flops": cost.flops,
                     "deployed": deployed, **settings}
            earlier = previous.get((method, set_name))
            if earlier == entry and (evals_dir / csv_name).is_file():
                log(f"{method} on {set_name}: reusing {evals_dir / csv_name}")
            else:
                policy = deployed_hypernetwork_adapter(path) if deployed else str(path)
                frame = evaluate_policy(policy, robots_of[set_name], task=task, episodes=episodes, seed=seed,
                                        env_config=env_config, progress=progress)
                write_results_csv(frame, evals_dir / csv_name)
                log(f"{method} on {set_name}: mean return {frame.attrs['mean_return']:.1f}")
            done[(method, set_name)] = entry
            # Until the end, entries of the earlier run not redone yet stay listed (for the next rerun).
            write_json_atomic(index_path, {**index, "entries": list({**previous, **done}.values())})
    index["entries"] = list(done.values())
    write_json_atomic(index_path, index)
    return index


def _is_hypernetwork(path: str | Path) -> bool:
    from workbench.models import HyperDistillConfig, load_checkpoint

    return Path(path).suffix != ".npz" and isinstance(load_checkpoint(path).config, HyperDistillConfig)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def table_from_index(evals_dir: str | Path, teacher: str | None = None) -> pd.DataFrame:
    """The results table rebuilt from ``evals_dir/index.json`` and its per-policy CSVs (no simulation).

    ``teacher``: the method the ``vs_teacher`` column divides by (default: a method called ``teacher``,
    else none). Where the teacher's mean return is not positive the ratio means nothing (a student
    scoring -3 against a teacher's -1.5 is not "2x the teacher"), so it is left empty.
    """
    from workbench.distillation.storage import read_json

    evals_dir = Path(evals_dir)
    index = read_json(evals_dir / INDEX_FILE, "results index")
    rows = []
    for entry in index.get("entries", []):
        path = evals_dir / entry["csv"]
        if not path.is_file():
            raise WorkbenchError("per-policy evaluation CSV listed in index.json is missing", path)
        try:
            frame = pd.read_csv(path)
        except (OSError, ValueError, pd.errors.ParserError) as error:
            raise WorkbenchError(f"not a readable evaluation CSV ({error.__class__.__name__})", path) from None
        if "mean_return" not in frame or "episodes" not in frame:
            raise WorkbenchError("evaluation CSV has no mean_return / episodes column", path)
        mean, sem = summarize(frame)
        rows.append({"method": entry["method"], "robot_set": entry["robot_set"], "mean_return": mean,
                     "std_error": sem, "robots": int(len(frame)), "episodes": int(frame["episodes"].max()),
                     "params": int(entry["params"]), "flops": int(entry["flops"])})
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS[:-1]))
    teacher = teacher if teacher is not None else ("teacher" if "teacher" in set(table["method"]) else None)
    reference = table[table["method"] == teacher].set_index("robot_set")["mean_return"] if teacher else None
    positive = reference[reference > 0] if reference is not None else pd.Series(dtype=float)
    table["vs_teacher"] = [row.mean_return / positive[row.robot_set] if row.robot_set in positive.index
                           else math.nan for row in table.itertuples()]
    return table


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write the results table as CSV, atomically."""
    path = Path(path)
    atomic_write_text(path, table.to_csv(index=False, float_format="%.4f"))
    return path


def format_results(table: pd.DataFrame) -> str:
    """The table as aligned text (for the terminal)."""
    lines = [f"{'method':<24} {'robot set':<20} {'return':>9} {'s.e.':>7} {'robots':>6} {'params':>10} "
             f"{'FLOPs':>12} {'/teacher':>8}"]
    for r in table.itertuples(index=False):
        ratio = "-" if math.isnan(r.vs_teacher) else f"{r.vs_teacher:.3f}"  # no ratio to a non-positive teacher
        lines.append(f"{r.method:<24} {r.robot_set:<20} {r.mean_return:>9.1f} {r.std_error:>7.1f} {r.robots:>6} "
                     f"{r.params:>10,} {r.flops:>12,} {ratio:>8}")
    return "\n".join(lines)


def results_figure(table: pd.DataFrame):
    """Plotly figure: grouped bars of mean return (with standard errors) per robot set, and mean return
    against inference FLOPs per step on a log axis."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=2, subplot_titles=("Mean return per robot set",
                                                            "Mean return vs inference FLOPs per step"))
    methods = list(dict.fromkeys(table["method"]))
    sets = list(dict.fromkeys(table["robot_set"]))
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    symbols = ["circle", "square", "diamond", "triangle-up", "x", "star", "cross", "hexagon"]
    for i, method in enumerate(methods):
        rows = table[table["method"] == method].set_index("robot_set").reindex(sets)
        color = palette[i % len(palette)]
        figure.add_trace(go.Bar(name=method, x=sets, y=rows["mean_return"], marker_color=color, legendgroup=method,
                                error_y={"type": "data", "array": rows["std_error"].fillna(0.0)}), row=1, col=1)
    for j, set_name in enumerate(sets):
        rows = table[table["robot_set"] == set_name]
        figure.add_trace(go.Scatter(name=set_name, x=rows["flops"], y=rows["mean_return"], mode="markers+text",
                                    text=rows["method"], textposition="top center",
                                    marker={"symbol": symbols[j % len(symbols)], "size": 10},
                                    error_y={"type": "data", "array": rows["std_error"].fillna(0.0)}),
                         row=1, col=2)
    figure.update_layout(barmode="group", template="plotly_white", height=520, width=1300)
    figure.update_xaxes(type="log", title_text="FLOPs per step (log)", row=1, col=2)
    figure.update_yaxes(title_text="mean return", row=1, col=1)
    figure.update_yaxes(title_text="mean return", row=1, col=2)
    return figure


def write_plot(table: pd.DataFrame, path: str | Path) -> list[Path]:
    """Write the figure: HTML always (``path`` itself, or beside a ``.png`` path); a PNG too when
    ``path`` ends in .png and plotly's image export (kaleido) is installed. Returns the files written."""
    path = Path(path)
    figure = results_figure(table)
    html = path if path.suffix == ".html" else path.with_suffix(".html")
    # plotly.js embedded: the page must open offline (no CDN on lab machines or in CI).
    page = figure.to_html(include_plotlyjs=True, full_html=True)
    atomic_write_text(html, page)
    written = [html]
    if path.suffix == ".png":
        try:
            import kaleido  # noqa: F401 - optional image export
        except ImportError:
            return written
        tmp = path.with_name(f".{path.stem}.tmp.png")
        figure.write_image(tmp)
        tmp.replace(path)
        written.append(path)
    return written
