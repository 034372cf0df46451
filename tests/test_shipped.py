"""The artefacts shipped in checkpoints/: they load, they are what the README says, and the results
table's figures come back when a fresh checkout re-runs the evaluation.

These tests read the real committed checkpoints (not the tiny ones the app tests build)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from workbench.analysis.evaluation import evaluate_policy
from workbench.analysis.results import table_from_index
from workbench.models import HyperDistillPolicy, MLPConfig, TransformerConfig, load_checkpoint
from workbench.morphology import load_robots

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"
TEACHER = CHECKPOINTS / "teacher-ft"
EVALS = CHECKPOINTS / "results-ft-evals"
STUDENTS = ("hyperdistill", "mlp", "tf-compressed", "modumorph-compressed")
ROBOT_SETS = ("train", "near-unseen", "generated-test", "unimal-test")


def assert_figures_come_back(fresh: pd.DataFrame, shipped: pd.DataFrame) -> None:
    """A fresh evaluation gives the shipped per-robot figures within their sampling error.

    On the machine that wrote a CSV the same seed gives the same figures to the bit (tested in
    test_evaluate and test_dagger). Another CPU type does not: MuJoCo's and torch's kernels dispatch
    on the instruction set (AVX2, AVX-512), the last bits of a float differ, and contact dynamics
    amplify them over a 1,000-step episode until an episode ends elsewhere. So each robot's mean must
    lie within 4 standard errors of the difference (both CSVs' std over their episodes) and the mean
    over robots within 3; a robot whose episodes all end alike (std 0) must agree to 2%."""
    assert list(fresh["robot"]) == list(shipped["robot"])
    assert list(fresh["episodes"]) == list(shipped["episodes"])
    n = shipped["episodes"].to_numpy()
    variance = (fresh["std_return"].to_numpy() ** 2 + shipped["std_return"].to_numpy() ** 2) / n
    difference = fresh["mean_return"].to_numpy() - shipped["mean_return"].to_numpy()
    slack = 0.02 * np.abs(shipped["mean_return"].to_numpy()) + 1.0
    assert np.all(np.abs(difference) <= 4 * np.sqrt(variance) + slack), list(zip(shipped["robot"], difference))
    assert abs(difference.mean()) <= 3 * np.sqrt(variance.sum()) / len(n) + slack.mean(), difference.mean()


def test_teacher_is_the_dagger_trained_warm_start_of_its_shipped_specialists() -> None:
    """The shipped teacher's chain: one PPO specialist per training robot, distilled into one ModuMorph
    (`workbench warm-start`), then two DAgger rounds on that warm start (`workbench dagger`, the
    specialists labelling its states), whose last policy is the teacher's."""
    from workbench.distillation.storage import sha256_file
    from workbench.training.specialists import specialist_dirs

    checkpoint = load_checkpoint(TEACHER / "policy.pt")
    assert isinstance(checkpoint.config, TransformerConfig) and checkpoint.config.variant == "modumorph"
    warm, dagger = CHECKPOINTS / "warm-start-ft", CHECKPOINTS / "warm-start-dagger-ft"
    assert sha256_file(TEACHER / "policy.pt") == sha256_file(dagger / "student.pt")
    assert json.loads((warm / "config.json").read_text())["student"] == "modumorph"
    rounds = pd.read_csv(dagger / "rounds.csv")
    assert list(rounds["round"]) == [1, 2]
    first = json.loads((dagger / "round-1" / "config.json").read_text())
    assert first["config"]["init_policy"] == "checkpoints/warm-start-ft/student.pt"
    for k in (1, 2):
        config = json.loads((dagger / f"round-{k}" / "config.json").read_text())
        assert config["student"] == "modumorph" and config["dataset"][0] == "data/warm-ft"
        assert len(config["dataset"]) == k + 1  # the warm start's dataset plus one recording per round
    assert load_checkpoint(dagger / "round-1" / "student.pt").config == checkpoint.config
    robots = load_robots(TEACHER / "robots")
    runs = specialist_dirs(CHECKPOINTS / "specialists-ft")
    assert [name for name, _ in runs] == [robot.name for robot in robots] and len(runs) == 12
    for name, run in runs:
        config = json.loads((run / "config.json").read_text())
        assert config["policy"] == "mlp" and config["name"] == "workbench-specialist"
        assert pd.read_csv(run / "metrics.csv")["env_steps"].iloc[-1] >= config["total_steps"]
        assert [r.name for r in load_robots(run / "robots")] == [name]
        assert isinstance(load_checkpoint(run / "policy.pt").config, MLPConfig)
    # The training page shows these; they are the results run's teacher evaluations.
    for robot_set in ROBOT_SETS:
        copy = pd.read_csv(TEACHER / f"eval-{robot_set}.csv")
        pd.testing.assert_frame_equal(copy, pd.read_csv(EVALS / f"teacher__{robot_set}.csv"))


@pytest.mark.parametrize("run_name", STUDENTS)
def test_students_load_and_were_distilled_from_the_teacher(run_name: str) -> None:
    run = CHECKPOINTS / "distill-ft" / run_name
    student = load_checkpoint(run / "student.pt").model
    config = json.loads((run / "config.json").read_text())
    assert config["student"] == run_name
    # A student normalises observations with its teacher's frozen statistics: these are the shipped teacher's.
    teacher_stats = load_checkpoint(TEACHER / "policy.pt").policy.normalizer.state_dict()
    for key, value in student.normalizer.state_dict().items():
        assert torch.equal(value, teacher_stats[key]), key
    metrics = pd.read_csv(run / "metrics.csv")
    assert list(metrics["epoch"]) == list(range(1, config["config"]["epochs"] + 1))  # the whole budget ran
    if isinstance(student, HyperDistillPolicy):
        mlp = student.generate(load_robots(TEACHER / "robots")[0])
        assert mlp.num_parameters > 0 and mlp.flops_per_step > 0


def test_results_table_is_the_one_its_evaluations_give() -> None:
    shipped = pd.read_csv(CHECKPOINTS / "results-ft.csv")
    rebuilt = table_from_index(EVALS)
    pd.testing.assert_frame_equal(shipped.reset_index(drop=True), rebuilt.reset_index(drop=True),
                                  check_exact=False, rtol=0, atol=1e-4)  # the CSV keeps 4 decimals
    assert set(shipped["method"]) >= {"teacher", *STUDENTS}
    assert set(shipped["robot_set"]) == set(ROBOT_SETS)


def test_teacher_figures_come_back_on_a_fresh_evaluation() -> None:
    """Re-run the teacher on its training robots exactly as `workbench results` did (same seed,
    episodes and grouping) and compare per robot with the shipped CSV."""
    index = json.loads((EVALS / "index.json").read_text())
    entry = next(e for e in index["entries"] if e["method"] == "teacher" and e["robot_set"] == "train")
    shipped = pd.read_csv(EVALS / entry["csv"])
    robots = load_robots(CHECKPOINTS.parent / entry["robots_spec"])  # recorded relative to the repository
    fresh = evaluate_policy(TEACHER / "policy.pt", robots, task=entry["task"], episodes=entry["episodes"],
                            seed=entry["seed"])
    assert_figures_come_back(fresh, shipped)


def test_wide_teacher_is_the_wide_dagger_policy_and_beats_the_students_teacher() -> None:
    """`teacher-ft-wide/` is the best universal policy made here (issue #4: ship the best teacher): the
    wide ModuMorph's second DAgger round, evaluated on the four robot sets like the students' teacher;
    its training-robot figures come back on a fresh evaluation (`workbench evaluate --episodes 8`)."""
    from workbench.distillation.storage import sha256_file

    wide = CHECKPOINTS / "teacher-ft-wide"
    dagger = CHECKPOINTS / "experiments" / "imitation-capacity" / "wide-dagger"
    assert sha256_file(wide / "policy.pt") == sha256_file(dagger / "student.pt")
    config = load_checkpoint(wide / "policy.pt").config
    assert isinstance(config, TransformerConfig) and config.variant == "modumorph" and config.d_model == 128
    assert [r.name for r in load_robots(wide / "robots")] == [r.name for r in load_robots(TEACHER / "robots")]
    sizes = {"train": 12, "train-32-episodes": 12, "near-unseen": 35, "generated-test": 100, "unimal-test": 102}
    for robot_set, count in sizes.items():
        assert len(pd.read_csv(wide / f"eval-{robot_set}.csv")) == count, robot_set
    for robot_set in ("train", "near-unseen"):  # better than the students' teacher where either transfers
        ours, theirs = (pd.read_csv(folder / f"eval-{robot_set}.csv")["mean_return"].mean() for folder in (wide, TEACHER))
        assert ours > theirs, robot_set
    shipped = pd.read_csv(wide / "eval-train.csv")
    fresh = evaluate_policy(wide / "policy.pt", load_robots(wide / "robots"), episodes=8, seed=0)
    assert_figures_come_back(fresh, shipped)


def test_app_pages_run_on_the_shipped_checkpoints(monkeypatch) -> None:
    """`make app` shows these files: the Compare page's table is the shipped one, and the Training page
    draws the teacher's and every student's curves without an error."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("WORKBENCH_CHECKPOINTS", str(CHECKPOINTS))
    app = str(CHECKPOINTS.parent / "app.py")
    for page in ("compare", "training"):
        at = AppTest.from_file(app, default_timeout=300)
        at.run()
        at.switch_page(f"workbench/app/{page}_page.py").run()
        assert not at.exception and not at.error, [e.value for e in at.exception]
        if page == "compare":
            pd.testing.assert_frame_equal(at.dataframe[0].value, pd.read_csv(CHECKPOINTS / "results-ft.csv"))
        else:
            assert len(at.get("plotly_chart")) >= 2  # the teacher's curve and the students'


def test_averaged_hn_is_the_mean_of_its_rounds_and_its_figures_come_back() -> None:
    """`distill-ft/hyperdistill-3x-dagger-avg` is `workbench average-weights` of rounds 2 and 3 of
    `hyperdistill-3x-dagger`, and re-running it as `workbench results` did (deployed MLPs) gives the
    shipped per-robot figures on the training robots."""
    from workbench.analysis.evaluation import deployed_hypernetwork_adapter
    from workbench.models.averaging import average_state_dicts

    dagger = CHECKPOINTS / "distill-ft" / "hyperdistill-3x-dagger"
    averaged = load_checkpoint(CHECKPOINTS / "distill-ft" / "hyperdistill-3x-dagger-avg" / "student.pt")
    rounds = [load_checkpoint(dagger / f"round-{k}" / "student.pt").model.state_dict() for k in (2, 3)]
    names = {name for name, _ in averaged.model.named_parameters()}
    expected = average_state_dicts(rounds, names)
    for key, value in averaged.model.state_dict().items():
        assert torch.equal(value, expected[key]), key
    assert [Path(p).parent.name for p in averaged.extra["averaged_from"]] == ["round-2", "round-3"]

    index = json.loads((EVALS / "index.json").read_text())
    entry = next(e for e in index["entries"]
                 if e["method"] == "hyperdistill-3x-dagger-avg" and e["robot_set"] == "train")
    assert entry["deployed"]
    shipped = pd.read_csv(EVALS / entry["csv"])
    robots = load_robots(CHECKPOINTS.parent / entry["robots_spec"])
    policy = deployed_hypernetwork_adapter(CHECKPOINTS.parent / entry["policy"])
    fresh = evaluate_policy(policy, robots, task=entry["task"], episodes=entry["episodes"], seed=entry["seed"])
    assert_figures_come_back(fresh, shipped)
