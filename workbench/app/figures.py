"""Plotly figures of rollouts, comparisons, results and learning curves (pure functions of data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.app.rollout import Rollout

MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def rollout_figure(rollout: Rollout) -> go.Figure:
    """Reward per step and torso forward position over time, one above the other."""
    t = np.arange(1, rollout.steps + 1) * rollout.dt
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                           subplot_titles=("Reward (forward velocity, m/s)", "Forward position x (m)"))
    figure.add_trace(go.Scatter(x=t, y=rollout.rewards, mode="lines", name="reward"), row=1, col=1)
    figure.add_trace(go.Scatter(x=t, y=rollout.x_positions, mode="lines", name="x"), row=2, col=1)
    figure.update_xaxes(title_text="time (s)", row=2, col=1)
    figure.update_layout(height=420, showlegend=False, margin=MARGIN)
    return figure


def compare_figure(table: pd.DataFrame) -> go.Figure:
    """Per policy: mean return with standard-error bars, and FLOPs per step (log axis)."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Mean return (± s.e. over episodes)",
                                                            "FLOPs per step (log)"))
    figure.add_trace(go.Bar(x=table["policy"], y=table["mean_return"], name="return",
                            error_y={"type": "data", "array": table["std_error"].fillna(0.0)}), row=1, col=1)
    costly = table[table["flops"] > 0]  # random costs nothing and has no place on a log axis
    figure.add_trace(go.Bar(x=costly["policy"], y=costly["flops"], name="FLOPs", marker_color="#ff7f0e"),
                     row=1, col=2)
    figure.update_yaxes(type="log", row=1, col=2)
    figure.update_layout(height=380, showlegend=False, margin=MARGIN)
    return figure


def results_figure(table: pd.DataFrame) -> go.Figure:
    """The suite-level results: mean return against inference FLOPs per step (log x), one marker
    series per robot set, each point labelled with its method."""
    figure = go.Figure()
    for set_name, rows in table.groupby("robot_set", sort=False):
        figure.add_trace(go.Scatter(x=rows["flops"], y=rows["mean_return"], mode="markers+text", name=str(set_name),
                                    text=rows["method"], textposition="top center", marker={"size": 11},
                                    error_y={"type": "data", "array": rows["std_error"].fillna(0.0)}))
    figure.update_xaxes(type="log", title_text="FLOPs per step (log)")
    figure.update_yaxes(title_text="mean return over robots")
    figure.update_layout(height=460, margin=MARGIN, title="Return against inference cost",
                         legend_title_text="robot set")
    return figure


def cost_figure(names: list[str], params: list[int], flops: list[int]) -> go.Figure:
    """Parameters and FLOPs per step of a few policies side by side (log axis)."""
    figure = go.Figure()
    figure.add_trace(go.Bar(x=names, y=params, name="parameters"))
    figure.add_trace(go.Bar(x=names, y=flops, name="FLOPs per step"))
    figure.update_yaxes(type="log")
    figure.update_layout(barmode="group", height=340, margin=MARGIN, title="Inference cost (log)")
    return figure


def teacher_return_figure(metrics: pd.DataFrame) -> go.Figure:
    """PPO learning curve: mean return of the episodes finished in each iteration and the running
    mean of recent episodes, against environment steps."""
    figure = go.Figure()
    for column, name in (("episode_return", "episodes of the iteration"), ("recent_return", "recent episodes")):
        if column in metrics:
            figure.add_trace(go.Scatter(x=metrics["env_steps"], y=metrics[column], mode="lines", name=name))
    figure.update_xaxes(title_text="environment steps")
    figure.update_yaxes(title_text="episode return")
    figure.update_layout(height=400, margin=MARGIN, title="Teacher (PPO): return")
    return figure


TEACHER_DIAGNOSTICS = ("policy_loss", "value_loss", "approx_kl", "explained_variance", "episode_length", "lr")


def teacher_diagnostics_figure(metrics: pd.DataFrame) -> go.Figure:
    """The PPO diagnostics present in the metrics file, one small panel each."""
    columns = [c for c in TEACHER_DIAGNOSTICS if c in metrics]
    cols = 3
    rows = max(1, -(-len(columns) // cols))
    figure = make_subplots(rows=rows, cols=cols, subplot_titles=columns, vertical_spacing=0.18)
    for i, column in enumerate(columns):
        figure.add_trace(go.Scatter(x=metrics["env_steps"], y=metrics[column], mode="lines", name=column),
                         row=i // cols + 1, col=i % cols + 1)
    figure.update_layout(height=260 * rows, showlegend=False, margin=MARGIN)
    return figure


def specialists_figure(curves: dict[str, pd.DataFrame]) -> go.Figure:
    """One line per robot: the recent (stochastic) training return of its specialist over env steps."""
    figure = go.Figure()
    for robot, metrics in curves.items():
        figure.add_trace(go.Scatter(x=metrics["env_steps"], y=metrics["recent_return"], mode="lines", name=robot))
    figure.update_layout(height=380, margin=MARGIN, xaxis_title="environment steps",
                         yaxis_title="recent return (stochastic)")
    return figure


def continued_epochs(stages: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Metrics of runs that went on from one another (warm start, then DAgger rounds), with each run's
    ``epoch`` shifted past the previous runs' last epoch so the curves join into one."""
    shifted, offset = {}, 0
    for name, metrics in stages.items():
        shifted[name] = metrics.assign(epoch=metrics["epoch"] + offset)
        offset = int(shifted[name]["epoch"].max())
    return shifted


def student_figure(curves: dict[str, pd.DataFrame]) -> go.Figure:
    """Distillation curves: loss (log) per epoch, and every ``return_<set>`` column, per student."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Distillation loss (KL, log)", "Evaluation return"))
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    dashes = ["solid", "dash", "dot", "dashdot"]
    for i, (name, metrics) in enumerate(curves.items()):
        color = palette[i % len(palette)]
        if "loss" in metrics:
            figure.add_trace(go.Scatter(x=metrics["epoch"], y=metrics["loss"], mode="lines+markers", name=name,
                                        legendgroup=name, line={"color": color}), row=1, col=1)
        returns = [c for c in metrics.columns if c.startswith("return_")]
        for j, column in enumerate(returns):
            points = metrics[["epoch", column]].dropna()
            figure.add_trace(go.Scatter(x=points["epoch"], y=points[column], mode="lines+markers",
                                        name=f"{name} {column.removeprefix('return_')}", legendgroup=name,
                                        line={"color": color, "dash": dashes[j % len(dashes)]}), row=1, col=2)
    figure.update_yaxes(type="log", row=1, col=1)
    figure.update_xaxes(title_text="epoch")
    figure.update_layout(height=420, margin=MARGIN)
    return figure
