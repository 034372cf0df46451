"""Training page: learning curves of the shipped teacher and students, from their metrics files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from workbench.app import figures
from workbench.app.shipped import Shipped, discover, read_table, teacher_total_steps
from workbench.app.widgets import show_missing
from workbench.errors import WorkbenchError


def _read(path: Path) -> pd.DataFrame | None:
    try:
        return read_table(path)
    except WorkbenchError as error:
        st.error(str(error))
        return None


def _teacher(shipped: Shipped) -> None:
    st.header("Teacher")
    _teacher_ppo(shipped)
    _warm_start(shipped)
    for path in shipped.teacher_evals:
        evaluation = _read(path)
        if evaluation is None or "mean_return" not in evaluation:
            continue
        st.subheader(f"Evaluation: {path.stem.removeprefix('eval-')}")
        st.caption(f"{len(evaluation)} robots, mean over robots {evaluation['mean_return'].mean():.1f} "
                   f"(deterministic actions, `{path.name}`).")
        st.dataframe(evaluation, hide_index=True, width="stretch")


def _teacher_ppo(shipped: Shipped) -> None:
    if shipped.teacher_metrics is None:
        if shipped.specialists:
            st.caption("The teacher is built below: per-robot PPO specialists distilled into one ModuMorph "
                       "(the warm start), then DAgger rounds where present; no PPO run of the universal policy "
                       "is recorded in `teacher-ft/`.")
        else:
            show_missing(shipped, "No teacher metrics yet (`teacher-ft/metrics.csv`, written by "
                         "`workbench train-teacher` at every iteration).")
        return
    metrics = _read(shipped.teacher_metrics)
    if metrics is None:
        return
    if "env_steps" not in metrics or metrics.empty:
        st.info(f"{shipped.teacher_metrics}: no iterations recorded yet.")
        return
    last = metrics.iloc[-1]
    steps, total = int(last["env_steps"]), teacher_total_steps(shipped)
    if total is not None and steps < total:
        status = f"in progress, {steps / total:.1%} of {total:,} steps" + (
            " (policy.pt is its latest checkpoint)" if shipped.teacher is not None else "")
    else:
        status = "finished" if shipped.teacher is not None else "no policy.pt"
    st.subheader("PPO")
    st.caption(f"{len(metrics)} iterations, {steps:,} environment steps, "
               f"{float(last.get('wall_time_s', float('nan'))) / 3600:.2f} h of training; {status}.")
    st.plotly_chart(figures.teacher_return_figure(metrics), width="stretch")
    with st.expander("PPO diagnostics"):
        st.plotly_chart(figures.teacher_diagnostics_figure(metrics), width="stretch")


def _warm_start(shipped: Shipped) -> None:
    """The per-robot specialists' PPO curves and the warm start's distillation loss, when shipped."""
    curves = {}
    for robot, path in shipped.specialists:
        metrics = _read(path)
        if metrics is not None and {"env_steps", "recent_return"} <= set(metrics) and not metrics.empty:
            curves[robot] = metrics
    if not curves:
        return
    st.subheader("Warm start: per-robot specialists (PPO, one MLP each)")
    st.plotly_chart(figures.specialists_figure(curves), width="stretch")
    stages = {}
    if shipped.warm_start_metrics is not None:
        stages["warm start (ModuMorph)"] = _read(shipped.warm_start_metrics)
    for number, path in shipped.teacher_dagger_rounds:
        stages[f"DAgger round {number}"] = _read(path)
    stages = {name: m for name, m in stages.items() if m is not None and "epoch" in m and not m.empty}
    if stages:
        if shipped.teacher_dagger_rounds:
            st.caption("Each DAgger round records the policy so far on the training robots, the specialists "
                       "label its states, and the distillation goes on over every recording (epochs continue "
                       "across rounds).")
        st.plotly_chart(figures.student_figure(figures.continued_epochs(stages)), width="stretch")


def _students(shipped: Shipped) -> None:
    st.header("Students (distillation)")
    curves = {}
    for run in shipped.students:
        if run.metrics is None:
            continue
        metrics = _read(run.metrics)
        if metrics is not None and "epoch" in metrics and not metrics.empty:
            curves[run.name] = metrics
    if not curves:
        show_missing(shipped, "No student metrics yet (`distill-ft/<student>/metrics.csv`, written by "
                     "`workbench distill` after every epoch).")
        return
    st.plotly_chart(figures.student_figure(curves), width="stretch")
    last = pd.DataFrame([{"student": name, **metrics.iloc[-1].to_dict()} for name, metrics in curves.items()])
    st.dataframe(last, hide_index=True, width="stretch")
    st.caption("Last epoch of each student. return_<set>: mean over robots of the evaluation return on that set.")


def training_page() -> None:
    """The Training page: the teacher's and the students' learning curves."""
    st.title("Training")
    st.caption("Learning curves from the metrics files in the checkpoints folder; a run that is still training "
               "shows what it has written so far (rerun the page to refresh).")
    shipped = discover()
    _teacher(shipped)
    _students(shipped)


if __name__ == "__main__":  # Streamlit runs each page file as __main__ (st.navigation in main.py)
    training_page()
