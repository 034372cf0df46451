"""`workbench render --policy`: any policy kind drives the video, the overlay shows its real return,
and bad policies are one-line errors."""

from __future__ import annotations

import imageio.v2 as imageio
import numpy as np
import pytest

from _tiny_checkpoints import train_tiny
from workbench.errors import WorkbenchError
from workbench.morphology import load_robots


@pytest.fixture(scope="module")
def policies(tmp_path_factory) -> dict:
    """Tiny teacher and HN checkpoints, the robot they trained on (as XML) and its generated MLP."""
    from workbench.models import load_checkpoint

    root = tmp_path_factory.mktemp("render-policy")
    teacher = train_tiny(root / "teacher", "modumorph")
    hn = train_tiny(root / "hn", "hyperdistill")
    robot, other = load_robots("generated-train")[:2]
    xml, other_xml = root / "robot.xml", root / "other.xml"
    robot.save(xml)
    other.save(other_xml)
    npz = load_checkpoint(hn).policy.generate(robot).save(root / "robot.npz")
    return {"teacher": teacher, "hn": hn, "npz": npz, "robot": robot, "xml": xml, "other_xml": other_xml}


def _render(tmp_path, capsys, policy, robot, *extra: str, steps: int = 8) -> tuple[int, str, str]:
    from workbench.cli import main

    out = tmp_path / "video.mp4"
    code = main(["render", "--policy", str(policy), "--robot", str(robot), "--steps", str(steps), "--out", str(out),
                 "--width", "64", "--height", "48", "--no-progress", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("kind", ["teacher", "hn", "hn-deployed", "npz", "random"])
def test_every_policy_kind_renders_a_video(policies, tmp_path, capsys, kind) -> None:
    policy = {"random": "random", "hn-deployed": policies["hn"]}.get(kind) or policies[kind]
    extra = ("--deploy",) if kind == "hn-deployed" else ()
    code, out, err = _render(tmp_path, capsys, policy, policies["xml"], *extra)
    assert code == 0, err
    reader = imageio.get_reader(str(tmp_path / "video.mp4"))
    assert reader.count_frames() == 8
    assert reader.get_data(7).shape == (48, 64, 3)
    reader.close()
    assert "wrote" in out and "finished episode returns" in out
    assert not list(tmp_path.glob(".*.tmp.mp4"))  # written through a temporary file, renamed


def test_overlaid_return_is_the_policy_return_in_the_env(policies) -> None:
    """The tracker behind the overlay sums exactly the rewards the policy gets when run directly."""
    from workbench.analysis.evaluation import make_policy_adapter
    from workbench.envs import make_env
    from workbench.rendering import ReturnTracker, bind_policy, policy_frames

    robot, steps = policies["robot"], 15
    tracker = ReturnTracker()
    bound = bind_policy(policies["teacher"], robot, seed=4)
    frames = list(policy_frames(robot, bound, steps=steps, seed=4, width=48, height=48, tracker=tracker))
    assert len(frames) == steps and frames[0].shape == (48, 48, 3)

    adapter = make_policy_adapter(policies["teacher"])
    env = make_env(robot)
    obs, _ = env.reset(seed=4)
    total, episode_total = 0.0, []
    for _ in range(steps):
        action = adapter.act({k: np.asarray(v)[None] for k, v in obs.items()}, np.zeros(1, np.int64))[0]
        obs, reward, terminated, truncated, _ = env.step(np.clip(action, -1, 1))
        total += reward
        if terminated or truncated:
            episode_total.append(total)
            total = 0.0
            obs, _ = env.reset()
    env.close()
    assert tracker.finished == pytest.approx(episode_total, rel=1e-5)
    assert tracker.current == pytest.approx(total, rel=1e-5, abs=1e-6)
    assert tracker.current != 0.0 or tracker.finished


def test_policies_move_the_robot_differently(policies) -> None:
    from workbench.rendering import bind_policy, policy_frames

    robot = policies["robot"]

    def last_frame(policy, **kw) -> np.ndarray:
        bound = bind_policy(policy, robot, seed=1, **kw)
        return list(policy_frames(robot, bound, steps=20, seed=1, width=64, height=64, overlay=False))[-1]

    teacher, again = last_frame(policies["teacher"]), last_frame(policies["teacher"])
    assert np.array_equal(teacher, again)  # deterministic: mean actions, same seed
    assert np.abs(teacher.astype(int) - last_frame("random").astype(int)).mean() > 1.0
    # The HN run as its generated MLP (numpy) and as the hypernetwork acts the same.
    deployed = bind_policy(policies["hn"], robot, deploy_hypernetwork=True)
    plain = bind_policy(policies["hn"], robot)
    assert deployed.deployed and not plain.deployed
    obs = {"proprioceptive": np.random.default_rng(0).normal(size=(12, 52)).astype(np.float32)}
    from workbench.morphology import action_mask, context_features, limb_mask

    obs.update(context=context_features(robot), limb_mask=limb_mask(robot), action_mask=action_mask(robot))
    assert np.allclose(deployed.act(obs), plain.act(obs), atol=1e-4)
    assert np.abs(plain.act(obs)).max() > 1e-3


def test_bad_policies_are_one_line_errors(policies, tmp_path, capsys) -> None:
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint" * 8)
    cases = {
        "cannot run robot": (policies["npz"], policies["other_xml"]),  # generated for another robot
        "no such policy file": (tmp_path / "missing.pt", policies["xml"]),
        "not a workbench checkpoint": (garbage, policies["xml"]),
    }
    for expected, (policy, robot) in cases.items():
        code, _, err = _render(tmp_path, capsys, policy, robot)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error:"), err
        assert expected in lines[0] and "Traceback" not in err
    assert not (tmp_path / "video.mp4").exists()


def test_height_map_policy_is_refused_on_flat_terrain(policies, tmp_path) -> None:
    import dataclasses

    from workbench.models import build_policy, get_model_config, save_checkpoint
    from workbench.rendering import bind_policy

    config = dataclasses.replace(get_model_config("workbench-vt", "hyperdistill"), hidden_dim=16, embed_dim=16,
                                 encoder_feedforward_dim=16)
    path = save_checkpoint(tmp_path / "vt.pt", build_policy(config))
    with pytest.raises(WorkbenchError, match="trained for task 'vt'"):
        bind_policy(path, policies["robot"], task="ft")
    assert bind_policy(path, policies["robot"], task="vt").task == "vt"
    # a flat-terrain policy may be watched on any terrain
    assert bind_policy(policies["teacher"], policies["robot"], task="obstacle").task == "ft"
