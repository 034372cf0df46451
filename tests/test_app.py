"""The Streamlit app, driven by Streamlit's AppTest (real pages, real rendering)."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO_ROOT
from workbench.errors import WorkbenchError

APP = str(REPO_ROOT / "app.py")


@pytest.fixture()
def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_robots_page_shows_the_default_robot(app: AppTest) -> None:
    assert app.title[0].value == "Robots"
    assert app.subheader[0].value == "gen-train-000"
    table = app.dataframe[0].value
    assert list(table.columns[:3]) == ["limb", "parent", "length"]
    assert table.iloc[0]["limb"] == "torso/0"
    assert len(app.get("image")) == 2  # two camera angles
    assert len(app.get("plotly_chart")) == 2  # limb tree and context heatmap


def test_loading_another_builtin_robot(app: AppTest) -> None:
    app.sidebar.selectbox(key="builtin_choice").set_value("gen-test-004")
    app.sidebar.button(key="load_builtin").click().run()
    assert not app.exception
    assert app.subheader[0].value == "gen-test-004"


def test_generate_and_mutate(app: AppTest) -> None:
    app.sidebar.number_input(key="gen_seed").set_value(7)
    app.sidebar.button(key="generate").click().run()
    generated = app.subheader[0].value
    assert "gen" in generated or generated
    app.sidebar.selectbox(key="mutation_op").set_value("grow_limb")
    app.sidebar.button(key="mutate").click().run()
    assert not app.exception
    assert app.subheader[0].value.startswith(generated)
    assert "grow_limb" in app.markdown[0].value or any("grow_limb" in m.value for m in app.markdown)


def test_published_directory_robot(app: AppTest, unimal_dir) -> None:
    app.sidebar.radio(key="robot_source").set_value("UNIMAL directory").run()
    app.sidebar.text_input(key="unimal_dir").set_value(str(unimal_dir / "test" / "xml")).run()
    app.sidebar.button(key="load_dir").click().run()
    assert not app.exception
    assert app.subheader[0].value.startswith(("floor-", "vt-", "mvt-"))


def test_bad_upload_is_one_clear_line() -> None:
    from workbench.app.robots_page import robot_from_upload

    with pytest.raises(WorkbenchError, match=r"^broken\.xml: "):
        robot_from_upload("broken.xml", b"<mujoco><worldbody><body name='torso/0'>")
    with pytest.raises(WorkbenchError, match=r"^binary\.xml: not a UTF-8 text file$"):
        robot_from_upload("binary.xml", bytes([0xFF, 0xFE, 0x00]))
    from workbench.morphology import builtin_robot

    source = builtin_robot("gen-train-002")
    robot = robot_from_upload("mine.xml", source.to_xml().encode())
    assert robot.name == "mine" and robot.num_joints == source.num_joints


def test_charts_describe_the_robot() -> None:
    from workbench.app.charts import context_heatmap_figure, limb_tree, limb_tree_figure
    from workbench.morphology import builtin_robot

    robot = builtin_robot("gen-train-001")
    graph = limb_tree(robot)
    assert graph.number_of_nodes() == robot.num_limbs + 1
    assert graph.number_of_edges() == robot.num_limbs
    assert len(limb_tree_figure(robot).data) == 2
    heat = np.asarray(context_heatmap_figure(robot).data[0].z)
    assert heat.shape == (12, 53)
    assert np.all(heat[robot.num_limbs + 1 :] == 0)
