"""Compare page: every shipped policy on the current robot, and the suite-level results table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.app import figures
from workbench.app.policies import PolicySource, compare_on_robot, load_for_robot, shipped_policies
from workbench.app.shipped import discover, read_table
from workbench.app.state import recall, remember
from workbench.app.widgets import TASKS, load_checkpoint_cached, robot_banner, show_missing
from workbench.errors import WorkbenchError
from workbench.morphology import Morphology

RESULTS_NEEDED = ("method", "robot_set", "mean_return", "std_error", "params", "flops")


def _compare(sources: list[PolicySource], robot: Morphology, task: str, episodes: int, steps: int) -> pd.DataFrame:
    with st.status(f"Comparing {len(sources)} policies on {robot.name}...", expanded=True) as status:
        bar = st.progress(0.0, text="Loading the policies...")
        policies = [load_for_robot(source, robot, loader=load_checkpoint_cached) for source in sources]

        def progress(i: int, label: str) -> None:
            bar.progress(i / len(policies), text=f"{label}: {episodes} episodes of up to {steps} steps, "
                         f"then its per-step latency ({i + 1} of {len(policies)})")

        table = compare_on_robot(policies, robot, task=task, episodes=episodes, max_steps=steps, on_progress=progress)
        bar.progress(1.0, text="Done")
        status.update(label=f"Compared {len(policies)} policies on {robot.name}", state="complete", expanded=False)
    return table


def _robot_section() -> None:
    st.header("On this robot")
    robot, robot_print = robot_banner()
    shipped = discover()
    sources = shipped_policies(shipped)
    if len(sources) == 1:
        show_missing(shipped, "No trained policy is shipped yet; only random actions can be compared.")
    left, middle, right = st.columns(3)
    task = left.radio("Task", list(TASKS), horizontal=True, key="compare_task")
    episodes = middle.slider("Episodes per policy", 1, 8, 3, key="compare_episodes")
    steps = right.slider("Steps per episode (at most)", 50, 1000, 300, step=50, key="compare_steps")
    key = (robot_print, tuple(source.key for source in sources), task, episodes, steps)
    if st.button("Compare the policies", key="run_compare", type="primary"):
        try:
            remember("compare", key, _compare(sources, robot, task, episodes, steps), max_entries=16)
        except WorkbenchError as error:
            st.error(str(error))
            return
    table = recall("compare", key)
    if table is None:
        st.info(f"Press the button to run {len(sources)} policies x {episodes} episodes on {robot.name}.")
        return
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "mean_return": st.column_config.NumberColumn("mean return", format="%.1f"),
        "std_error": st.column_config.NumberColumn("s.e.", format="%.1f"),
        "mean_length": st.column_config.NumberColumn("mean length", format="%.0f"),
        "params": st.column_config.NumberColumn("parameters", format="localized"),
        "flops": st.column_config.NumberColumn("FLOPs per step", format="localized"),
        "latency_ms": st.column_config.NumberColumn("latency (ms per step)", format="%.3f"),
    })
    st.plotly_chart(figures.compare_figure(table), width="stretch")
    st.caption("Latency: median time of one action for one observation on this machine's CPU (batch 1), "
               "the generated MLP in numpy, the others in torch.")


def _results_section() -> None:
    st.header("Across robot sets (shipped results)")
    shipped = discover()
    if shipped.results is None:
        show_missing(shipped, f"No results table yet (`{shipped.root}/results-ft.csv`, written by "
                     "`workbench results`).")
        return
    try:
        table = read_table(shipped.results)
    except WorkbenchError as error:
        st.error(str(error))
        return
    absent = [column for column in RESULTS_NEEDED if column not in table]
    if absent:
        st.error(f"{shipped.results}: missing column(s) {', '.join(absent)}")
        return
    st.dataframe(table, hide_index=True, width="stretch")
    st.plotly_chart(figures.results_figure(table), width="stretch")
    st.caption("Mean over robots of the per-robot mean return (error bars: standard error over robots) against "
               "inference FLOPs per step: up and to the left is better.")


def compare_page() -> None:
    """The Compare page: the shipped policies on the current robot, then the suite-level results."""
    st.title("Compare")
    _robot_section()
    _results_section()


if __name__ == "__main__":  # Streamlit runs each page file as __main__ (st.navigation in main.py)
    compare_page()
