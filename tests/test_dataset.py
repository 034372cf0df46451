"""PD robots, dataset collection (shards, manifest, checksums, memory maps) and resumed collection."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from workbench.distillation import CollectConfig, DistillDataset, build_pd_robots, collect_dataset
from workbench.distillation import collect as collect_module
from _tiny_checkpoints import random_teacher
from workbench.errors import WorkbenchError
from workbench.morphology import fingerprint, load_robots

CONFIG = CollectConfig(mutants_per_robot=1, transitions_per_robot=300, envs_per_robot=3, robots_per_shard=2,
                       max_episode_steps=40, seed=3)


@pytest.fixture(scope="module")
def training_robots() -> list:
    return load_robots("generated-train")[:2]


@pytest.fixture(scope="module")
def teacher(tmp_path_factory, training_robots) -> Path:
    return random_teacher(tmp_path_factory.mktemp("teacher") / "teacher.pt", training_robots)


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory, teacher, training_robots) -> Path:
    out = tmp_path_factory.mktemp("data") / "ds"
    collect_dataset(teacher, training_robots, out, CONFIG)
    return out


def test_pd_robots_are_distinct_seeded_mutants(training_robots) -> None:
    twice = training_robots + [training_robots[0]]  # a duplicate training robot is dropped
    robots, report = build_pd_robots(twice, mutants_per_robot=4, seed=1)
    assert report.duplicate_training_robots == (training_robots[0].name,)
    assert [r.name for r in robots[:2]] == [m.name for m in training_robots]
    assert len(robots) == 2 + 8
    prints = [r.fingerprint for r in robots]
    assert len(set(prints)) == len(prints)
    assert prints == [fingerprint(r.morphology) for r in robots]
    for robot in robots[2:]:
        assert 1 <= len(robot.mutations) <= 3 and robot.parent in {m.name for m in training_robots}
    again, _ = build_pd_robots(training_robots, mutants_per_robot=4, seed=1)
    assert [r.fingerprint for r in again] == prints[:2] + prints[2:]
    other, _ = build_pd_robots(training_robots, mutants_per_robot=4, seed=2)
    assert [r.fingerprint for r in other[2:]] != prints[2:]


def test_dataset_contents(dataset_dir, teacher) -> None:
    from workbench.models import load_checkpoint

    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    assert manifest["complete"] and manifest["task"] == "ft"
    assert len(manifest["robots"]) == 4 and len(manifest["shards"]) == 2
    assert sum(r["training_robot"] for r in manifest["robots"]) == 2
    ds = DistillDataset(dataset_dir)
    ds.verify()
    assert ds.num_transitions == 4 * 300 and list(ds.counts()) == [300] * 4
    assert ds.static["context"].shape == (4, 12, 53) and ds.static["action_mask"].shape == (4, 24)
    policy = load_checkpoint(teacher).policy
    state = ds.normalizer_state()
    assert np.array_equal(state["proprio_mean"], policy.normalizer.proprio_mean.numpy())
    assert ds.action_std == pytest.approx(policy.action_std)
    # Transitions are memory-mapped, and the stored means are the teacher's means of the stored observations.
    assert isinstance(ds._arrays[0]["proprioceptive"], np.memmap)
    robot = 3
    rows = ds.rows(robot, np.array([0, 5, 299]))
    assert rows["proprioceptive"].shape == (3, 12, 52) and "heightmap" not in rows
    obs = {"proprioceptive": torch.from_numpy(rows["proprioceptive"])}
    for key in ("context", "limb_mask", "action_mask"):
        obs[key] = torch.from_numpy(np.repeat(ds.static[key][robot][None], 3, axis=0))
    with torch.no_grad():
        mean = policy(obs).numpy()
    assert np.allclose(mean, rows["action_mean"], atol=1e-5)
    # The static arrays are the robot's own (its XML rebuilds the same limb mask).
    from workbench.morphology import limb_mask

    assert np.array_equal(limb_mask(ds.morphology(robot)), ds.static["limb_mask"][robot])
    # Stochastic teacher: consecutive observations of one env differ, episodes restart (40-step cap).
    assert not np.allclose(rows["proprioceptive"][0], rows["proprioceptive"][1])


def test_flipped_byte_is_detected(dataset_dir, tmp_path, capsys) -> None:
    import shutil

    from workbench.cli import main

    copy = tmp_path / "ds"
    shutil.copytree(dataset_dir, copy)
    target = copy / "shards" / "00001" / "proprioceptive.npy"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x10
    target.write_bytes(bytes(data))
    ds = DistillDataset(copy)  # shapes are still right: only the checksum can tell
    with pytest.raises(WorkbenchError) as error:
        ds.verify()
    assert str(target) in str(error.value) and "checksum" in str(error.value)
    code = main(["distill", "--dataset", str(copy), "--student", "mlp", "--config", "tiny",
                 "--out", str(tmp_path / "run"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: ") and str(target) in err[-1]
    # A truncated file is caught when the dataset is opened.
    cut = copy / "shards" / "00000" / "action_mean.npy"
    cut.write_bytes(cut.read_bytes()[:-100])
    with pytest.raises(WorkbenchError) as error:
        DistillDataset(copy)
    assert str(cut) in str(error.value) and "\n" not in str(error.value)


def test_interrupted_collection_resumes_without_redoing_shards(dataset_dir, teacher, training_robots, tmp_path,
                                                                monkeypatch) -> None:
    out = tmp_path / "ds"
    real = collect_module._run_group
    calls: list[int] = []

    def interrupted(teacher_, robots, indices, shard, *args, **kwargs):
        calls.append(shard)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(teacher_, robots, indices, shard, *args, **kwargs)

    monkeypatch.setattr(collect_module, "_run_group", interrupted)
    with pytest.raises(KeyboardInterrupt):
        collect_dataset(teacher, training_robots, out, CONFIG)
    with pytest.raises(WorkbenchError, match="incomplete"):
        DistillDataset(out)
    first = out / "shards" / "00000" / "proprioceptive.npy"
    stamp = first.stat().st_mtime_ns

    calls.clear()
    monkeypatch.setattr(collect_module, "_run_group",
                        lambda teacher_, robots, indices, shard, *args, **kwargs: calls.append(shard) or real(
                            teacher_, robots, indices, shard, *args, **kwargs))
    collect_dataset(teacher, training_robots, out, CONFIG)
    assert calls == [1]  # only the unfinished shard ran
    assert first.stat().st_mtime_ns == stamp
    # The resumed dataset is exactly the uninterrupted one.
    resumed, reference = DistillDataset(out), DistillDataset(dataset_dir)
    resumed.verify()
    for a, b in zip(resumed.shards, reference.shards):
        assert {k: v["sha256"] for k, v in a["files"].items()} == {k: v["sha256"] for k, v in b["files"].items()}

    # A corrupted finished shard is collected again on the next run; a finished dataset is left alone.
    target = out / "shards" / "00001" / "action_mean.npy"
    data = bytearray(target.read_bytes())
    data[-3] ^= 0x01
    target.write_bytes(bytes(data))
    calls.clear()
    collect_dataset(teacher, training_robots, out, CONFIG)
    assert calls == [1]
    DistillDataset(out).verify()


def test_rerun_with_other_settings_is_refused(dataset_dir, teacher, training_robots) -> None:
    with pytest.raises(WorkbenchError, match="another teacher, robot set or settings"):
        collect_dataset(teacher, training_robots, dataset_dir, dataclasses.replace(CONFIG, seed=4))


def test_collect_cli(teacher, tmp_path, capsys) -> None:
    from workbench.cli import main

    out = tmp_path / "cli-ds"
    code = main(["collect", "--teacher", str(teacher), "--robots", "generated-train", "--mutants-per-robot", "0",
                 "--transitions-per-robot", "20", "--envs-per-robot", "2", "--robots-per-shard", "50",
                 "--max-episode-steps", "10", "--out", str(out), "--no-progress"])
    assert code == 0
    assert "100 PD robots (100 training robots + 0 mutants), 2,000 transitions in 2 shards" in capsys.readouterr().out
    code = main(["collect", "--teacher", str(tmp_path / "missing.pt"), "--robots", "generated-train",
                 "--out", str(tmp_path / "x")])
    assert code == 2 and "missing.pt" in capsys.readouterr().err
    code = main(["collect", "--teacher", str(teacher), "--robots", "generated-train", "--transitions-per-robot", "0",
                 "--out", str(tmp_path / "y")])
    assert code == 2 and "transitions_per_robot" in capsys.readouterr().err
    code = main(["collect", "--teacher", str(teacher), "--robots", "no-such-suite", "--out", str(tmp_path / "z")])
    assert code == 2 and "no-such-suite" in capsys.readouterr().err


def test_recording_noise_moves_the_states_not_the_targets(dataset_dir, teacher, training_robots, tmp_path) -> None:
    """``noise_std`` changes the noise on the executed actions only: the same seed visits other states,
    the targets are still the teacher's means there, and the dataset keeps the teacher's std for the loss."""
    from workbench.models import load_checkpoint

    out = tmp_path / "noisy"
    collect_dataset(teacher, training_robots, out, dataclasses.replace(CONFIG, noise_std=0.9))
    noisy, plain = DistillDataset(out), DistillDataset(dataset_dir)
    policy = load_checkpoint(teacher).policy
    assert noisy.action_std == plain.action_std == pytest.approx(policy.action_std) != 0.9
    assert json.loads((out / "manifest.json").read_text())["collect_config"]["noise_std"] == 0.9
    index = np.arange(1, 40)  # step 0 is the same reset in both
    a, b = noisy.rows(0, index), plain.rows(0, index)
    assert not np.array_equal(a["proprioceptive"], b["proprioceptive"])
    obs = {"proprioceptive": torch.from_numpy(a["proprioceptive"])}
    for key in ("context", "limb_mask", "action_mask"):
        obs[key] = torch.from_numpy(np.repeat(noisy.static[key][0][None], len(index), axis=0))
    with torch.no_grad():
        expected = policy(obs).numpy()
    np.testing.assert_allclose(a["action_mean"], expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(WorkbenchError, match="noise_std"):
        CollectConfig(noise_std=-1.0).validate()
