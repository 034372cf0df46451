"""Rendering: frames of the right size that show the robot, stills, MP4 files, the CLI."""

from __future__ import annotations

import subprocess
import sys

import imageio.v2 as imageio
import numpy as np
import pytest

from tests._env_helpers import builtin_robots
from workbench.envs import make_env
from workbench.rendering import render_frames, render_robot_image, write_video


@pytest.fixture(scope="module")
def robot():
    return builtin_robots(1)[0]


def robot_pixels(frame: np.ndarray) -> int:
    """Pixels of the robot's orange-brown material (floor and sky are blue / white)."""
    r, g, b = (frame[..., k].astype(int) for k in range(3))
    return int(((r - b > 60) & (r > g)).sum())


@pytest.mark.parametrize("task", ["ft", "obstacle"])
def test_rendered_frame_has_the_right_size_and_shows_the_robot(robot, task):
    env = make_env(robot, task=task, render_mode="rgb_array", width=160, height=120)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    frame = env.render()
    env.close()
    assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8
    assert frame.std() > 10.0  # not blank
    assert robot_pixels(frame) > 100  # the robot is in view and differs from the background


def test_render_mode_none_renders_nothing(robot):
    env = make_env(robot)
    env.reset(seed=0)
    assert env.render() is None


def test_vt_frame_renders_the_terrain(robot):
    env = make_env(robot, task="vt", render_mode="rgb_array", width=96, height=64)
    env.reset(seed=0)
    frame = env.render()
    env.close()
    assert frame.shape == (64, 96, 3) and frame.std() > 10.0


def test_still_image_from_two_angles(robot):
    front = render_robot_image(robot, azimuth=90.0, elevation=-15.0, width=128, height=96)
    side = render_robot_image(robot, azimuth=180.0, elevation=-15.0, width=128, height=96)
    assert front.shape == side.shape == (96, 128, 3) and front.dtype == np.uint8
    assert robot_pixels(front) > 50 and robot_pixels(side) > 50
    assert not np.array_equal(front, side)


def test_render_frames_takes_a_policy_and_write_video(robot, tmp_path):
    seen = []

    def policy(obs):
        seen.append(obs)
        return np.zeros(24, np.float32)

    frames = render_frames(robot, steps=7, policy_fn=policy, width=64, height=48)
    path = tmp_path / "out" / "clip.mp4"
    assert write_video(frames, path, fps=50, progress=False) == 7
    assert len(seen) == 7
    reader = imageio.get_reader(str(path))
    assert reader.count_frames() == 7
    assert reader.get_data(0).shape == (48, 64, 3)
    reader.close()


def _cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "workbench", "render", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_render_cli_writes_a_readable_mp4(robot, tmp_path):
    xml = tmp_path / "robot.xml"
    xml.write_text(robot.to_xml())
    out = tmp_path / "video.mp4"
    result = _cli("--robot", str(xml), "--task", "ft", "--steps", "12", "--out", str(out), "--width", "64", "--height", "48", "--seed", "3")
    assert result.returncode == 0, result.stderr
    reader = imageio.get_reader(str(out))
    assert reader.count_frames() == 12
    frame = reader.get_data(5)
    assert frame.shape == (48, 64, 3) and frame.std() > 5.0
    reader.close()
    assert not (tmp_path / "MUJOCO_LOG.TXT").exists()


def test_render_cli_builtin_name_and_bad_input(tmp_path, capsys):
    from workbench.cli import main
    from workbench.morphology import builtin_robot_names

    out = tmp_path / "v.mp4"
    name = builtin_robot_names()[0]
    assert main(["render", "--robot", name, "--steps", "3", "--out", str(out), "--width", "32", "--height", "32", "--no-progress"]) == 0
    assert out.exists()
    capsys.readouterr()
    for args in (
        ("--robot", "no-such-robot", "--steps", "3", "--out", str(out)),
        ("--robot", str(tmp_path / "missing.xml"), "--steps", "3", "--out", str(out)),
        ("--robot", name, "--steps", "3", "--out", str(out), "--width", "33"),
        ("--robot", name, "--steps", "0", "--out", str(out)),
        ("--robot", name, "--steps", "3", "--out", str(tmp_path / "v.gif")),
    ):
        assert main(["render", *args]) != 0
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in err, err


def test_render_help(capsys):
    from workbench.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["render", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--robot" in text and "--steps" in text and "--out" in text
