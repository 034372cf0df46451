"""Sweeps (mean-action return of many generated architectures), the Pareto front, and selection under a
parameter budget: measured (from a sweep) and predicted (the paper's capacity proxy, no sweep)."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from tqdm import tqdm

from workbench.errors import WorkbenchError
from workbench.files import atomic_write_text
from workbench.small_policies.actors import Actor, mlp_forward, squash
from workbench.small_policies.space import Architecture, all_architectures, capacity, count

COLUMNS = ("architecture", "params", "flops", "mean_return", "stderr")


@dataclass(frozen=True)
class SweepRow:
    architecture: Architecture
    params: int
    flops: int
    mean_return: float
    stderr: float


def stratified_sample(n: int, obs_dim: int, act_dim: int, seed: int = 0) -> list[Architecture]:
    """``n`` architectures spread over parameter count: the space sorted by size, cut into ``n`` equal
    strata, one drawn from each (all of them when ``n`` >= 4,680)."""
    archs = sorted(all_architectures(), key=lambda a: (count(a, obs_dim, act_dim).params, a))
    if n >= len(archs):
        return archs
    rng = np.random.default_rng(seed)
    edges = np.linspace(0, len(archs), n + 1).astype(int)
    return [archs[int(rng.integers(lo, hi))] for lo, hi in zip(edges[:-1], edges[1:])]


def episode_return(actor: Actor, env: gym.Env, arch: Architecture | None, seed: int) -> float:
    obs, _ = env.reset(seed=seed)
    with torch.no_grad():
        params = actor.mlp_params(arch)
        total, done = 0.0, False
        while not done:

            head = mlp_forward(params, torch.as_tensor(obs, dtype=torch.float32)[None])
            _, _, action = squash(head, actor.scale, actor.bias, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action[0].numpy().astype(np.float64))
            total, done = total + float(reward), terminated or truncated
    return total


def sweep(actor: Actor, env: gym.Env, archs: list[Architecture], episodes: int, seed: int = 10_000,
          progress: bool = True) -> list[SweepRow]:
    """Mean return and its standard error over ``episodes`` seeded episodes, per architecture."""
    if episodes < 1:
        raise WorkbenchError("--episodes must be positive")
    rows = []
    for arch in tqdm(archs, desc="ghp sweep", unit="arch", disable=not progress):
        returns = np.array([episode_return(actor, env, arch, seed + e) for e in range(episodes)])
        shape = arch or actor.archs[0]  # the plain actor has one architecture of its own (256x256)
        c = count(shape, actor.obs_dim, actor.act_dim)
        se = float(returns.std(ddof=1) / math.sqrt(episodes)) if episodes > 1 else float("nan")
        rows.append(SweepRow(shape, c.params, c.flops, float(returns.mean()), se))
    return rows


def write_csv(path: Path, rows: list[SweepRow]) -> None:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([",".join(map(str, r.architecture)), r.params, r.flops, f"{r.mean_return:.6g}", f"{r.stderr:.6g}"])
    atomic_write_text(path, out.getvalue())


def read_csv(path: str | Path) -> list[SweepRow]:
    path = Path(path)
    if not path.is_file():
        raise WorkbenchError("no such sweep file", path)
    try:
        with open(path, newline="") as handle:
            return [SweepRow(tuple(int(w) for w in r["architecture"].split(",")), int(r["params"]), int(r["flops"]),
                             float(r["mean_return"]), float(r["stderr"])) for r in csv.DictReader(handle)]
    except (KeyError, ValueError, TypeError):
        raise WorkbenchError(f"not a sweep CSV (columns {','.join(COLUMNS)})", path) from None


def pareto(rows: list[SweepRow]) -> list[SweepRow]:
    """Rows not beaten by a smaller-or-equal architecture: the best return so far by parameter count."""
    front, best = [], -math.inf
    for r in sorted(rows, key=lambda r: (r.params, -r.mean_return)):
        if r.mean_return > best:
            front.append(r)
            best = r.mean_return
    return front


def smallest_within(rows: list[SweepRow], fraction: float = 0.9) -> SweepRow:
    """The smallest architecture whose return reaches ``fraction`` of the best return."""
    best = max(r.mean_return for r in rows)
    good = [r for r in rows if r.mean_return >= fraction * best]
    return min(good, key=lambda r: (r.params, -r.mean_return))


def best_under_budget(rows: list[SweepRow], budget: int) -> SweepRow:
    fits = [r for r in rows if r.params <= budget]
    if not fits:
        raise WorkbenchError(f"no swept architecture has <= {budget:,} parameters")
    return max(fits, key=lambda r: (r.mean_return, -r.params))


def predict_under_budget(budget: int, obs_dim: int, act_dim: int) -> Architecture:
    """The capacity proxy's pick: the largest capacity among architectures within the budget."""
    fits = [a for a in all_architectures() if count(a, obs_dim, act_dim).params <= budget]
    if not fits:
        smallest = min(count(a, obs_dim, act_dim).params for a in all_architectures())
        raise WorkbenchError(f"budget {budget:,} is below the smallest architecture ({smallest:,} parameters)")
    return max(fits, key=lambda a: (capacity(a, obs_dim), -count(a, obs_dim, act_dim).params))


def pareto_figure(rows: list[SweepRow], chosen: SweepRow | None = None, title: str = ""):
    """Plotly: return against parameters (log x) for every swept architecture, the front, the choice."""
    import plotly.graph_objects as go  # noqa: PLC0415 - plotting only

    fig = go.Figure()
    text = [",".join(map(str, r.architecture)) for r in rows]
    fig.add_scatter(x=[r.params for r in rows], y=[r.mean_return for r in rows], mode="markers", name="architectures",
                    text=text, marker={"size": 5, "opacity": 0.5})
    front = pareto(rows)
    fig.add_scatter(x=[r.params for r in front], y=[r.mean_return for r in front], mode="lines+markers",
                    name="Pareto front", line={"shape": "hv"})
    if chosen is not None:
        fig.add_scatter(x=[chosen.params], y=[chosen.mean_return], mode="markers", name="chosen",
                        text=[",".join(map(str, chosen.architecture))], marker={"size": 14, "symbol": "star"})
    fig.update_layout(title=title, xaxis={"type": "log", "title": "actor parameters"},
                      yaxis={"title": "mean return"})
    return fig
