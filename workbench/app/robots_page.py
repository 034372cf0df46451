"""Robots page: pick, upload, generate or mutate a robot; see it rendered and described."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from workbench.app import charts
from workbench.app.state import current_origin, current_robot, set_current_robot
from workbench.errors import WorkbenchError
from workbench.morphology import (
    MUTATION_OPERATORS,
    Morphology,
    builtin_robot,
    builtin_robot_names,
    generate_robot,
    limb_table,
    load_robot,
    mutate,
)
from workbench.morphology.loading import xml_files_in
from workbench.morphology.mutation import apply_operator

RANDOM_OPERATOR = "random (1-3 steps)"
VIEW_ANGLES = ((90.0, -15.0), (150.0, -35.0))  # (azimuth, elevation): side and three-quarter views


@st.cache_data(show_spinner="Rendering the robot...", max_entries=64)
def _render(xml: str, azimuth: float, elevation: float) -> np.ndarray:
    from workbench.rendering import render_robot_image

    morphology = Morphology.from_xml_string(xml)
    return render_robot_image(morphology, azimuth=azimuth, elevation=elevation, width=480, height=360)


def _pick_builtin() -> None:
    names = builtin_robot_names()
    name = st.selectbox("Built-in robot", names, key="builtin_choice")
    if st.button("Load built-in robot", key="load_builtin"):
        set_current_robot(builtin_robot(name), f"built-in {name}")


def _pick_from_directory() -> None:
    directory = st.text_input("Directory of UNIMAL XMLs", value="../shared/unimal/test/xml", key="unimal_dir")
    path = Path(directory).expanduser()
    if not path.is_dir():
        st.info(f"{directory}: not a directory")
        return
    files = xml_files_in(path)
    if not files:
        st.info(f"{directory}: no .xml files")
        return
    chosen = st.selectbox("Robot", [f.name for f in files], key="dir_choice")
    if st.button("Load robot from directory", key="load_dir"):
        try:
            set_current_robot(load_robot(path / chosen), f"file {path / chosen}")
        except WorkbenchError as error:
            st.error(str(error))


def robot_from_upload(file_name: str, content: bytes) -> Morphology:
    """Parse an uploaded UNIMAL XML; a WorkbenchError names the file and the problem."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise WorkbenchError("not a UTF-8 text file", file_name) from None
    try:
        return Morphology.from_xml_string(text, name=Path(file_name).stem)
    except WorkbenchError as error:
        raise WorkbenchError(error.problem, file_name) from None


def _upload() -> None:
    uploaded = st.file_uploader("Upload a UNIMAL XML", type=["xml"], key="upload")
    if uploaded is None:
        return
    try:
        morphology = robot_from_upload(uploaded.name, uploaded.getvalue())
    except WorkbenchError as error:
        st.error(str(error))
        return
    if st.session_state.get("uploaded_id") != uploaded.file_id:
        st.session_state["uploaded_id"] = uploaded.file_id
        set_current_robot(morphology, f"upload {uploaded.name}")


def _generate_and_mutate() -> None:
    seed = int(st.number_input("Seed", min_value=0, value=0, step=1, key="gen_seed"))
    left, right = st.columns(2)
    if left.button("Generate a random robot", key="generate"):
        set_current_robot(generate_robot(seed), f"generated from seed {seed}")
    operator = right.selectbox("Mutation", [RANDOM_OPERATOR, *MUTATION_OPERATORS], key="mutation_op")
    if right.button("Mutate the current robot", key="mutate"):
        rng = np.random.default_rng(seed)
        robot = current_robot()
        if operator == RANDOM_OPERATOR:
            mutant = mutate(robot, rng)
        else:
            mutant = apply_operator(robot, operator, rng)
        if mutant is None:
            st.warning(f"{operator} has no valid result on {robot.name}")
        else:
            if operator != RANDOM_OPERATOR:
                mutant = mutant.with_name(f"{robot.name}-{operator}")
            set_current_robot(mutant, f"mutant ({operator}) of {robot.name}")


def robots_page() -> None:
    """The Robots page: choose, upload, generate or mutate the current robot and look at it."""
    st.title("Robots")
    st.caption("UNIMAL robots: a sphere torso and a tree of capsule limbs, each limb on one or two hinge joints.")
    with st.sidebar:
        st.header("Choose a robot")
        source = st.radio("Source", ["Built-in", "UNIMAL directory", "Upload"], key="robot_source")
        if source == "Built-in":
            _pick_builtin()
        elif source == "UNIMAL directory":
            _pick_from_directory()
        else:
            _upload()
        st.divider()
        _generate_and_mutate()

    robot = current_robot()
    st.subheader(robot.name)
    st.write(
        f"{current_origin()} · {robot.num_limbs} limbs · {robot.num_joints} motors · "
        f"mass {robot.mass:.2f} kg · torso height {robot.height:.2f} m"
        + (f" · mutations: {', '.join(robot.mutations)}" if robot.mutations else "")
    )
    xml = robot.to_xml()
    columns = st.columns(len(VIEW_ANGLES))
    for column, (azimuth, elevation) in zip(columns, VIEW_ANGLES):
        column.image(_render(xml, azimuth, elevation), caption=f"azimuth {azimuth:g}°, elevation {elevation:g}°")
    left, right = st.columns([2, 3])
    left.plotly_chart(charts.limb_tree_figure(robot), width="stretch")
    right.dataframe(pd.DataFrame(limb_table(robot)), hide_index=True, width="stretch")
    position = st.radio("Context positions", ["absolute", "relative"], horizontal=True, key="context_position")
    st.plotly_chart(charts.context_heatmap_figure(robot, position=position), width="stretch")
    st.download_button("Download MJCF", xml, file_name=f"{robot.name}.xml", mime="application/xml")


if __name__ == "__main__":  # Streamlit runs each page file as __main__ (st.navigation in main.py)
    robots_page()
