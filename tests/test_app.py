"""The Streamlit app, driven by Streamlit's AppTest (real pages, real rendering, real checkpoints).

The Robots page runs on the built-in robots; the other pages read a tiny but real checkpoints root
(tests/_app_fixtures.py) or an empty one, chosen with WORKBENCH_CHECKPOINTS.
"""

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
    assert generated == "gen-7"  # generate_robot names a robot after its seed
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


# ------------------------------------------------------------------------------------------------
# The pages over the shipped checkpoints
# ------------------------------------------------------------------------------------------------

PAGE_FILES = {"generate": "workbench/app/generate_page.py", "rollout": "workbench/app/rollout_page.py",
              "compare": "workbench/app/compare_page.py", "training": "workbench/app/training_page.py"}


def _open(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page(PAGE_FILES[page]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture()
def shipped(tiny_checkpoints, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CHECKPOINTS", str(tiny_checkpoints))
    return tiny_checkpoints


@pytest.fixture()
def nothing_shipped(empty_checkpoints, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CHECKPOINTS", str(empty_checkpoints))
    return empty_checkpoints


def test_every_page_says_what_is_missing_when_nothing_is_shipped(nothing_shipped) -> None:
    root = str(nothing_shipped)
    generate = _open("generate")
    assert any("No distilled HyperDistill student" in i.value and root in i.value for i in generate.info)
    assert generate.selectbox(key="hn_choice").options == ["a checkpoint path I type"]

    rollout = _open("rollout")
    assert rollout.selectbox(key="rollout_policy").options == ["random"]
    assert any("No trained policy is shipped" in i.value for i in rollout.info)

    compare = _open("compare")
    assert any("No results table yet" in i.value for i in compare.info)

    assert "not there yet: teacher (teacher-ft/policy.pt), students" in compare.sidebar.caption[0].value

    training = _open("training")
    infos = " ".join(i.value for i in training.info)
    assert "No teacher metrics yet" in infos and "No student metrics yet" in infos
    assert not training.get("plotly_chart")


def test_random_rollout_runs_without_checkpoints(nothing_shipped) -> None:
    at = _open("rollout")
    at.slider(key="rollout_steps").set_value(20)
    at.button(key="run_rollout").click().run()
    assert not at.exception and not at.error
    assert len(at.get("video")) == 1 and len(at.get("plotly_chart")) == 1
    assert 1 <= int(at.metric[1].value) <= 20  # stopped at the step limit, or earlier on a fall


def test_generate_mlp_page(shipped) -> None:
    from workbench.app.state import default_robot_name
    from workbench.models import load_policy
    from workbench.morphology import builtin_robot

    at = _open("generate")
    assert at.selectbox(key="hn_choice").options[0].startswith("hyperdistill (")
    assert any("Press the button" in i.value for i in at.info)
    at.button(key="generate_mlp").click().run()
    assert not at.exception and not at.error
    expected = load_policy(shipped / "distill-ft" / "hyperdistill" / "student.pt").generate(
        builtin_robot(default_robot_name()))
    assert at.success[0].value.startswith(
        f"Generated the MLP of {expected.robot}: {expected.num_parameters:,} parameters, "
        f"{expected.flops_per_step:,} FLOPs per step, reading 9 bodies (torso and 8 limbs) and driving 8 motors.")
    table = at.dataframe[0].value
    assert list(table["layer"]) == ["input", "hidden0", "output"]
    assert table["parameters"].sum() == expected.num_parameters
    assert table["FLOPs per step"].sum() == expected.flops_per_step
    assert [m.value for m in at.metric][:2] == [f"{expected.num_parameters:,}", f"{expected.flops_per_step:,}"]
    assert at.metric[2].value.endswith("%")  # against the shipped teacher
    assert len(at.get("plotly_chart")) == 1 and len(at.get("download_button")) == 1


def test_generate_mlp_refuses_a_checkpoint_that_is_not_a_hypernetwork(shipped) -> None:
    at = _open("generate")
    at.selectbox(key="hn_choice").set_value("a checkpoint path I type").run()
    at.text_input(key="hn_path").set_value(str(shipped / "teacher-ft" / "policy.pt")).run()
    at.button(key="generate_mlp").click().run()
    assert not at.exception
    assert "does not generate MLPs" in at.error[0].value and "\n" not in at.error[0].value
    at.text_input(key="hn_path").set_value(str(shipped / "teacher-ft" / "metrics.csv")).run()
    at.button(key="generate_mlp").click().run()
    assert not at.exception and len(at.error) == 1 and "metrics.csv" in at.error[0].value


def test_generated_mlp_download_is_the_deploy_file(shipped, tmp_path) -> None:
    import numpy as np

    from workbench.app.generate_page import agreement, layer_table, npz_bytes
    from workbench.deploy import load_mlp
    from workbench.models import load_checkpoint
    from workbench.morphology import builtin_robot

    robot = builtin_robot("gen-test-003")
    checkpoint = load_checkpoint(shipped / "distill-ft" / "hyperdistill" / "student.pt")
    mlp = checkpoint.policy.generate(robot)
    path = tmp_path / "robot.npz"
    path.write_bytes(npz_bytes(mlp))
    loaded = load_mlp(path)
    assert loaded.robot == "gen-test-003" and loaded.num_parameters == mlp.num_parameters
    for key, array in mlp.arrays.items():
        assert np.array_equal(loaded.arrays[key], array), key
    assert agreement(checkpoint, mlp, robot) < 1e-4
    assert int(layer_table(mlp)["inputs"][0]) == 17 * (robot.num_limbs + 1)  # 17 state values per real body


def test_rollout_page_runs_and_caches_an_episode(shipped) -> None:
    at = _open("rollout")
    options = at.selectbox(key="rollout_policy").options
    assert options == ["teacher", "hyperdistill (generated MLP)", "mlp", "tf-compressed", "modumorph-compressed",
                       "random"]
    at.selectbox(key="rollout_policy").set_value("hyperdistill (generated MLP)")
    at.slider(key="rollout_steps").set_value(30)
    at.button(key="run_rollout").click().run()
    assert not at.exception and not at.error
    assert len(at.get("video")) == 1 and len(at.get("plotly_chart")) == 1
    shown = [m.value for m in at.metric]
    steps = int(shown[1])
    assert 1 <= steps <= 30
    # Same robot, policy, task, seed and steps: the cached episode is shown without running again.
    at.run()
    assert [m.value for m in at.metric] == shown and len(at.get("video")) == 1
    # Another seed is another episode: not run until asked.
    at.number_input(key="rollout_seed").set_value(1).run()
    assert not at.get("video") and any("Press the button" in i.value for i in at.info)


def test_compare_page(shipped) -> None:
    import pandas as pd

    at = _open("compare")
    assert any("Press the button" in i.value for i in at.info)
    results = at.dataframe[0].value
    assert results.equals(pd.read_csv(shipped / "results-ft.csv"))
    assert len(at.get("plotly_chart")) == 1  # return against FLOPs
    at.slider(key="compare_episodes").set_value(2)
    at.slider(key="compare_steps").set_value(50)
    at.button(key="run_compare").click().run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table["policy"]) == ["teacher", "hyperdistill (generated MLP)", "mlp", "tf-compressed",
                                     "modumorph-compressed", "random"]
    assert (table["episodes"] == 2).all() and (table["mean_length"] <= 50).all()
    assert (table["latency_ms"] > 0).all()
    # The checkpoints' costs are those of the suite-level table (same FLOP counter).
    by_method = results[results["robot_set"] == "train"].set_index("method")
    for method in ("teacher", "mlp", "tf-compressed", "modumorph-compressed"):
        row = table[table["policy"] == method].iloc[0]
        assert (row["params"], row["flops"]) == (by_method.loc[method, "params"], by_method.loc[method, "flops"])
    random_row = table[table["policy"] == "random"].iloc[0]
    assert random_row["params"] == 0 and random_row["flops"] == 0
    assert len(at.get("plotly_chart")) == 2


def test_training_page(shipped) -> None:
    at = _open("training")
    assert not at.error and not at.info
    assert "3 iterations" in at.caption[1].value and "finished" in at.caption[1].value
    assert len(at.get("plotly_chart")) == 3  # teacher return, PPO diagnostics, students
    evaluation, students = at.dataframe[0].value, at.dataframe[1].value
    assert list(evaluation["robot"]) == ["gen-train-000", "gen-train-001", "gen-train-002"]
    assert list(students["student"]) == ["hyperdistill", "mlp", "tf-compressed", "modumorph-compressed"]
    assert (students["epoch"] == 2).all() and "return_train" in students


def test_sidebar_names_the_robot_the_page_just_loaded(app: AppTest) -> None:
    app.sidebar.selectbox(key="builtin_choice").set_value("gen-test-004")
    app.sidebar.button(key="load_builtin").click().run()
    assert any("Current robot: **gen-test-004**" in caption.value for caption in app.sidebar.caption)
