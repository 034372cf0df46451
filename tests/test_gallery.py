"""`workbench gallery`: one side-by-side MP4 per robot (teacher left, HN student right, returns overlaid)."""

from __future__ import annotations

import imageio.v2 as imageio
import numpy as np
import pytest

from _tiny_checkpoints import train_tiny

SIZE, GAP, STEPS = 64, 4, 30


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("gallery")
    return {"teacher": train_tiny(root / "teacher", "modumorph"), "student": train_tiny(root / "hn", "hyperdistill")}


def _gallery(out, teacher, student, *extra: str) -> int:
    from workbench.cli import main

    return main(["gallery", "--out", str(out), "--teacher", str(teacher), "--student", str(student), "--n", "2",
                 "--steps", str(STEPS), "--size", str(SIZE), "--no-progress", *extra])


def _frames(path) -> list[np.ndarray]:
    reader = imageio.get_reader(str(path))
    frames = [np.asarray(f) for f in reader]
    reader.close()
    return frames


def _halves_difference(frame: np.ndarray) -> float:
    """Mean absolute pixel difference of the two halves below the text box (the robots, not the labels)."""
    below = SIZE // 2
    left, right = frame[below:, :SIZE].astype(int), frame[below:, SIZE + GAP:].astype(int)
    return float(np.abs(left - right).mean())


def test_gallery_writes_one_side_by_side_video_per_robot(checkpoints, tmp_path, capsys) -> None:
    from workbench.morphology import load_robots

    out = tmp_path / "gallery"
    assert _gallery(out, checkpoints["teacher"], checkpoints["student"]) == 0
    names = [r.name for r in load_robots("generated-train")[:2]]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.mp4" for n in names)
    printed = capsys.readouterr().out
    assert "teacher: first episode" in printed and "HN student (generated MLP): first episode" in printed
    frames = _frames(out / f"{names[0]}.mp4")
    assert len(frames) == STEPS
    assert frames[0].shape == (SIZE, 2 * SIZE + GAP, 3)
    gap = frames[0][:, SIZE:SIZE + GAP].astype(int)
    assert gap.min() > 200  # the white separator
    different = max(_halves_difference(f) for f in frames)

    # Control: the same policy on both sides gives (up to compression) the same halves.
    same = tmp_path / "same"
    assert _gallery(same, checkpoints["teacher"], checkpoints["teacher"]) == 0
    control = max(_halves_difference(f) for f in _frames(same / f"{names[0]}.mp4"))
    print(f"halves differ by {different:.2f} (teacher vs student), {control:.2f} (teacher vs teacher)")
    assert control < 5.0 and different > 2.0 * control + 5.0


def test_halves_are_exactly_the_two_policies_alone(checkpoints) -> None:
    from workbench.morphology import load_robots
    from workbench.rendering import bind_policy, policy_frames, side_by_side_frames

    robot = load_robots("generated-train")[0]
    teacher = bind_policy(checkpoints["teacher"], robot, label="teacher")
    student = bind_policy(checkpoints["student"], robot, label="student", deploy_hypernetwork=True)
    both = list(side_by_side_frames(robot, [teacher, student], steps=6, seed=2, width=48, height=48, gap=GAP))
    alone = [list(policy_frames(robot, p, steps=6, seed=2, width=48, height=48)) for p in (teacher, student)]
    assert len(both) == 6
    for frame, left, right in zip(both, *alone):
        assert frame.shape == (48, 48 * 2 + GAP, 3)
        assert np.array_equal(frame[:, :48], left) and np.array_equal(frame[:, 48 + GAP:], right)


def test_gallery_bad_input_is_one_line(checkpoints, tmp_path, monkeypatch, capsys) -> None:
    from workbench.cli import main

    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = [
        (["--n", "0"], "--n"),
        (["--steps", "0"], "--steps"),
        (["--size", "33"], "--size"),
        (["--robots", "no-such-suite"], "no-such-suite"),
    ]
    for extra, expected in cases:
        assert _gallery(tmp_path / "g", checkpoints["teacher"], checkpoints["student"], *extra) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error:") and expected in err[0], err
    assert _gallery(a_file, checkpoints["teacher"], checkpoints["student"]) == 2
    assert "must be a folder" in capsys.readouterr().err
    # The default checkpoints (checkpoints/teacher-ft, checkpoints/distill-ft/hyperdistill) are missing here.
    monkeypatch.chdir(tmp_path)
    assert main(["gallery", "--out", str(tmp_path / "g"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no teacher checkpoint" in err[0] and "teacher-ft/policy.pt" in err[0]
    assert main(["gallery", "--out", str(tmp_path / "g"), "--teacher", str(checkpoints["teacher"]),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no student checkpoint" in err[0] and "hyperdistill/student.pt" in err[0]
    assert not (tmp_path / "g").exists()
