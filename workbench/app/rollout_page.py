"""Rollout page: watch a policy drive the current robot for one episode."""

from __future__ import annotations

import streamlit as st

from workbench.app import figures
from workbench.app.policies import PolicySource, load_for_robot, one_torch_thread, shipped_policies, single_step
from workbench.app.rollout import Rollout, run_episode
from workbench.app.shipped import discover
from workbench.app.state import recall, remember
from workbench.app.widgets import TASKS, load_checkpoint_cached, robot_banner, show_missing
from workbench.errors import WorkbenchError
from workbench.morphology import Morphology

PROGRESS_EVERY = 10  # steps between progress-bar updates (each one is a message to the browser)


def _settings(sources: list[PolicySource]) -> tuple[PolicySource, str, int, int]:
    by_label = {source.label: source for source in sources}
    left, right = st.columns(2)
    label = left.selectbox("Policy", list(by_label), key="rollout_policy")
    task = right.radio("Task", list(TASKS), format_func=lambda t: f"{t} ({TASKS[t]})", horizontal=True,
                       key="rollout_task")
    left, right = st.columns(2)
    steps = left.slider("Steps (at most; an episode is 1000)", min_value=20, max_value=1000, value=300, step=10,
                        key="rollout_steps")
    seed = int(right.number_input("Seed", min_value=0, value=0, step=1, key="rollout_seed"))
    return by_label[label], task, int(steps), seed


def _run(source: PolicySource, robot: Morphology, task: str, steps: int, seed: int) -> Rollout:
    with st.status(f"Running {source.label} on {robot.name} ({task})...", expanded=True) as status:
        st.write("Loading the policy...")
        policy = load_for_robot(source, robot, seed=seed, loader=load_checkpoint_cached)
        if policy.task is not None and policy.task != task:
            st.write(f"Note: this policy was trained on {policy.task}.")
        bar = st.progress(0.0, text=f"Simulating and rendering step 0 of {steps}")

        def progress(step: int) -> None:
            if step % PROGRESS_EVERY == 0 or step == steps:
                bar.progress(step / steps, text=f"Simulating and rendering step {step} of {steps}")

        with one_torch_thread():
            rollout = run_episode(robot, single_step(policy.adapter), task=task, max_steps=steps, seed=seed,
                                  on_step=progress)
        bar.progress(1.0, text=f"{rollout.steps} steps, {rollout.end}")
        status.update(label=f"{source.label} on {robot.name}: return {rollout.episode_return:.1f}", state="complete",
                      expanded=False)
    return rollout


def _show(rollout: Rollout) -> None:
    left, middle, right = st.columns(3)
    left.metric("Return", f"{rollout.episode_return:.1f}")
    middle.metric("Steps", f"{rollout.steps}", help=f"{rollout.steps * rollout.dt:.1f} s of simulated time")
    right.metric("Forward distance", f"{rollout.distance:.2f} m", help="return x control step (0.02 s)")
    video, chart = st.columns([1, 1])
    video.video(rollout.video, format="video/mp4")
    video.caption(f"Ended: {rollout.end}.")
    chart.plotly_chart(figures.rollout_figure(rollout), width="stretch")


def rollout_page() -> None:
    """The Rollout page: one rendered episode of a chosen policy on the current robot."""
    st.title("Rollout")
    st.caption("One episode of a policy on the current robot, rendered by a camera that follows the torso. "
               "Actions are the policy's mean (deterministic); the reward is the torso's forward velocity.")
    robot, robot_print = robot_banner()
    shipped = discover()
    sources = shipped_policies(shipped)
    if len(sources) == 1:
        show_missing(shipped, "No trained policy is shipped yet (no teacher, no student): only random actions "
                     "can run.")
    source, task, steps, seed = _settings(sources)
    key = (robot_print, source.key, task, seed, steps)
    if st.button("Run the episode", key="run_rollout", type="primary"):
        try:
            remember("rollout", key, _run(source, robot, task, steps, seed))
        except WorkbenchError as error:
            st.error(str(error))
            return
    rollout = recall("rollout", key)
    if rollout is None:
        st.info("Press the button to run the episode (about a second per 50 steps).")
        return
    _show(rollout)


if __name__ == "__main__":  # Streamlit runs each page file as __main__ (st.navigation in main.py)
    rollout_page()
