"""DAgger building blocks: another policy acts while the teacher labels (``collect --behaviour``),
several datasets read as one (``DatasetUnion``), a student started from earlier weights (``init_policy``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from workbench.distillation import (CollectConfig, DatasetUnion, DistillDataset, Distiller, collect_dataset,
                                    get_distill_config, open_datasets)
from workbench.distillation.trainer import dataset_identity
from workbench.errors import WorkbenchError
from workbench.morphology import load_robots
from _tiny_checkpoints import random_teacher

CONFIG = CollectConfig(mutants_per_robot=1, transitions_per_robot=120, envs_per_robot=3, robots_per_shard=2,
                       max_episode_steps=30, seed=5)


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict[str, Path]:
    """A teacher, another policy, the teacher's own dataset and one where the other policy acted."""
    root = tmp_path_factory.mktemp("dagger")
    robots = load_robots("generated-train")[:2]
    paths = {"teacher": random_teacher(root / "teacher.pt", robots),
             "behaviour": random_teacher(root / "behaviour.pt", robots, seed=1)}
    collect_dataset(paths["teacher"], robots, root / "plain", CONFIG)
    collect_dataset(paths["teacher"], robots, root / "dagger", CONFIG, behaviour_path=paths["behaviour"])
    return {**paths, "plain": root / "plain", "dagger": root / "dagger", "robots": robots}


def _policy_means(path: Path, dataset: DistillDataset, robot: int, rows: dict[str, np.ndarray]) -> np.ndarray:
    from workbench.models import load_checkpoint

    n = len(rows["proprioceptive"])
    obs = {"proprioceptive": torch.from_numpy(rows["proprioceptive"])}
    for key in ("context", "limb_mask", "action_mask"):
        obs[key] = torch.from_numpy(np.repeat(dataset.static[key][robot][None], n, axis=0))
    with torch.no_grad():
        return load_checkpoint(path).policy(obs).numpy()


def test_the_behaviour_policy_acts_and_the_teacher_labels(setup, tmp_path) -> None:
    plain, dagger = DistillDataset(setup["plain"]), DistillDataset(setup["dagger"])
    manifest = json.loads((setup["dagger"] / "manifest.json").read_text())
    assert manifest["behaviour"]["sha256"] == manifest["identity"]["behaviour_sha256"] != manifest["teacher"]["sha256"]
    index = np.arange(1, 60)  # step 0 is the same reset in both
    for robot in range(dagger.num_robots):
        a, b = dagger.rows(robot, index), plain.rows(robot, index)
        assert not np.allclose(a["proprioceptive"], b["proprioceptive"])  # other actions, other states
        np.testing.assert_allclose(a["action_mean"], _policy_means(setup["teacher"], dagger, robot, a),
                                   rtol=1e-5, atol=1e-6)  # ... labelled by the teacher
    # The teacher as its own behaviour policy records exactly the plain dataset (same seed, same noise).
    same = tmp_path / "same"
    collect_dataset(setup["teacher"], setup["robots"], same, CONFIG, behaviour_path=setup["teacher"])
    again = DistillDataset(same)
    for robot in range(again.num_robots):
        every = np.arange(CONFIG.transitions_per_robot)
        assert np.array_equal(again.rows(robot, every)["proprioceptive"], plain.rows(robot, every)["proprioceptive"])
    # A rerun into the folder without the behaviour policy is another collection.
    with pytest.raises(WorkbenchError, match="another teacher, robot set or settings"):
        collect_dataset(setup["teacher"], setup["robots"], setup["dagger"], CONFIG)


def test_a_union_reads_its_parts_as_one_dataset(setup) -> None:
    plain, dagger = DistillDataset(setup["plain"]), DistillDataset(setup["dagger"])
    union = open_datasets([setup["plain"], setup["dagger"]])
    assert isinstance(union, DatasetUnion) and isinstance(open_datasets([setup["plain"]]), DistillDataset)
    n = CONFIG.transitions_per_robot
    assert list(union.counts()) == [2 * n] * plain.num_robots and union.num_transitions == 2 * plain.num_transitions
    rows = np.array([0, n - 1, n, 2 * n - 1, 7, n + 7])
    got = union.rows(1, rows)
    want = [plain.rows(1, np.array([0, n - 1]))["proprioceptive"], dagger.rows(1, np.array([0, n - 1]))["proprioceptive"],
            plain.rows(1, np.array([7]))["proprioceptive"], dagger.rows(1, np.array([7]))["proprioceptive"]]
    assert np.array_equal(got["proprioceptive"], np.concatenate(want))
    batch = union.batch([0, 3], [np.array([n + 1, 2]), np.array([0, n])])
    assert batch["proprioceptive"].shape == (2, 2, 12, 52) and list(batch["robot"]) == [0, 3]
    assert union.normalizer_state().keys() == plain.normalizer_state().keys() and union.task == plain.task
    assert dataset_identity(plain) != dataset_identity(union) != dataset_identity(open_datasets([setup["dagger"],
                                                                                                 setup["plain"]]))


def test_a_union_refuses_datasets_of_other_robots_or_teachers(setup, tmp_path) -> None:
    other_robots = tmp_path / "other-robots"
    collect_dataset(setup["teacher"], setup["robots"], other_robots, dataclasses.replace(CONFIG, seed=6))
    with pytest.raises(WorkbenchError, match="other robots") as error:
        open_datasets([setup["plain"], other_robots])
    assert str(other_robots / "manifest.json") in str(error.value)
    other_teacher = tmp_path / "other-teacher"
    collect_dataset(setup["behaviour"], setup["robots"], other_teacher, CONFIG)
    with pytest.raises(WorkbenchError, match="another teacher"):
        open_datasets([setup["plain"], other_teacher])


def test_distilling_a_union_from_earlier_weights(setup, tmp_path, capsys) -> None:
    from workbench.cli import main
    from workbench.models import load_checkpoint

    first = tmp_path / "round0"
    assert main(["distill", "--dataset", str(setup["plain"]), "--student", "mlp", "--config", "tiny", "--epochs", "1",
                 "--out", str(first), "--no-progress"]) == 0
    start = load_checkpoint(first / "student.pt").policy.state_dict()
    config = get_distill_config("tiny", init_policy=str(first / "student.pt"))
    union = open_datasets([setup["plain"], setup["dagger"]])
    distiller = Distiller(config, union, "mlp", None)
    for key, value in distiller.policy.state_dict().items():
        assert torch.equal(value, start[key]), key  # weights and the (same teacher's) normaliser
    wider = config.replace(model_overrides={"mlp": {"hidden_dim": 48}})
    with pytest.raises(WorkbenchError, match="another size than the student"):
        Distiller(wider, union, "mlp", None)
    # The CLI: two datasets, initial weights, recorded in config.json; the run resumes on the same union.
    second = tmp_path / "round1"
    args = ["distill", "--dataset", str(setup["plain"]), str(setup["dagger"]), "--student", "mlp", "--config", "tiny",
            "--init-policy", str(first / "student.pt"), "--epochs", "1", "--out", str(second), "--no-progress"]
    assert main(args) == 0
    stored = json.loads((second / "config.json").read_text())
    assert stored["dataset"] == [str(setup["plain"]), str(setup["dagger"])]
    assert stored["config"]["init_policy"] == str(first / "student.pt")
    capsys.readouterr()
    assert main(["distill", "--dataset", str(setup["plain"]), str(setup["dagger"]), "--student", "mlp", "--resume",
                 "--epochs", "2", "--out", str(second), "--no-progress"]) == 0
    assert "epoch 2" in capsys.readouterr().out
    # Weights of another student kind: one line naming the file.
    code = main(["distill", "--dataset", str(setup["plain"]), "--student", "hyperdistill", "--config", "tiny",
                 "--init-policy", str(first / "student.pt"), "--out", str(tmp_path / "bad"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: ") and str(first / "student.pt") in err[-1]


def test_dagger_command_runs_rounds_and_resumes(setup, tmp_path, capsys) -> None:
    from workbench.cli import main
    from workbench.distillation.storage import sha256_file

    first = tmp_path / "first"
    assert main(["distill", "--dataset", str(setup["plain"]), "--student", "mlp", "--config", "tiny", "--epochs", "1",
                 "--out", str(first), "--no-progress"]) == 0
    args = ["dagger", "--dataset", str(setup["plain"]), "--run", str(first), "--rounds", "2", "--epochs", "1",
            "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "dagger"), "--no-progress"]
    assert main(args) == 0
    out = tmp_path / "dagger"
    # Round k records round k-1's student and distils on every dataset so far, from that student.
    previous = first / "student.pt"
    for k in (1, 2):
        manifest = json.loads((tmp_path / "data" / f"round-{k}" / "manifest.json").read_text())
        assert manifest["behaviour"]["sha256"] == sha256_file(previous)
        assert manifest["teacher"]["sha256"] == sha256_file(setup["teacher"])
        stored = json.loads((out / f"round-{k}" / "config.json").read_text())
        assert len(stored["dataset"]) == k + 1 and stored["config"]["init_policy"] == str(previous)
        previous = out / f"round-{k}" / "student.pt"
    assert (out / "student.pt").read_bytes() == previous.read_bytes()
    rounds = (out / "rounds.csv").read_text().splitlines()
    assert rounds[0].startswith("round,datasets,transitions,epochs,loss") and len(rounds) == 3
    assert rounds[2].startswith(f"2,3,{3 * 4 * CONFIG.transitions_per_robot},1,")
    # Rerun: nothing is recorded or trained again.
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "data").rglob("*.npy")}
    stamps.update({p: p.stat().st_mtime_ns for p in out.rglob("state.pt")})
    capsys.readouterr()
    assert main(args) == 0
    assert all(p.stat().st_mtime_ns == stamp for p, stamp in stamps.items())
    assert "keeping 2 finished shard(s)" in capsys.readouterr().err
    # The output folder moved elsewhere: its round students now have other paths, yet the recorded
    # datasets stay byte for byte as they were, so the rounds distilled from them are still recognised.
    import shutil

    manifests = {p: p.read_bytes() for p in (tmp_path / "data").rglob("manifest.json")}
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    assert main(args[:-2] + [str(moved), "--no-progress"]) == 0
    assert all(p.read_bytes() == text for p, text in manifests.items())
    assert all(p.stat().st_mtime_ns == stamp for p, stamp in stamps.items() if p.suffix == ".npy")
    assert "nothing to collect" in capsys.readouterr().err
    # A flipped byte in the first dataset is caught before any round runs.
    broken = tmp_path / "broken"
    shutil.copytree(setup["plain"], broken)
    target = broken / "shards" / "00000" / "action_mean.npy"
    data = bytearray(target.read_bytes())
    data[-3] ^= 0x10
    target.write_bytes(bytes(data))
    code = main(["dagger", "--dataset", str(broken), "--run", str(first), "--data-dir", str(tmp_path / "d0"),
                 "--out", str(tmp_path / "o0"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and str(target) in err[-1] and not (tmp_path / "d0").exists()
    # A first run distilled from another dataset, and a folder that is not a run: one line naming the file.
    code = main(["dagger", "--dataset", str(setup["dagger"]), "--run", str(first), "--data-dir", str(tmp_path / "d1"),
                 "--out", str(tmp_path / "o1"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "was not distilled from" in err[-1] and str(first / "config.json") in err[-1]
    code = main(["dagger", "--dataset", str(setup["plain"]), "--run", str(tmp_path / "data"), "--data-dir",
                 str(tmp_path / "d2"), "--out", str(tmp_path / "o2"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: ") and "config.json" in err[-1]
