"""The generated MLP: equals the hypernetwork, runs without torch, saves / loads, export CLI."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from workbench.deploy import ACTION_DIM, MAX_LIMBS, PROPRIOCEPTIVE_SIZE, GeneratedMLP, load_mlp
from workbench.envs import layout
from workbench.errors import WorkbenchError
from workbench.models import HyperDistillPolicy, build_policy, get_model_config, save_checkpoint
from workbench.models.synthetic import synthetic_obs

TOL = 1e-5


def _check(got, expected):
    """Within 1e-5 of the HN (actions of a sensible policy are O(1); the check would be vacuous otherwise)."""
    assert np.abs(expected).max() > 1e-3
    assert np.abs(got - expected).max() < TOL, (np.abs(got - expected).max(), np.abs(expected).max())


def _policy(task: str, seed: int = 0, encoder: str = "transformer") -> HyperDistillPolicy:
    torch.manual_seed(seed)
    config = get_model_config(f"workbench-{task}", "hyperdistill")
    # Non-zero head weights so that every limb gets its own generated weights.
    config = dataclasses.replace(config, hn_weight_init_std=0.01, context_encoder=encoder)
    return build_policy(config).eval()


def _numpy(obs: dict, i: int | None = None) -> dict:
    return {k: (v.numpy() if i is None else v[i].numpy()) for k, v in obs.items()}


def _hn_actions(policy, obs) -> np.ndarray:
    with torch.no_grad():
        return policy(obs).numpy()


def test_layout_constants_mirror_envs_layout():
    assert MAX_LIMBS == layout.MAX_LIMBS and ACTION_DIM == layout.ACTION_DIM
    assert PROPRIOCEPTIVE_SIZE == layout.PROPRIOCEPTIVE.size


@pytest.mark.parametrize("task", ("ft", "vt", "obstacle"))
@pytest.mark.parametrize("encoder", ("linear", "transformer"))
def test_generated_mlp_equals_hypernetwork_on_synthetic_observations(task, encoder):
    policy = _policy(task, encoder=encoder)
    stats = synthetic_obs(256, task, seed=9, scale=2.0)
    stats["proprioceptive"] = stats["proprioceptive"] + 0.5
    policy.update_normalizer(stats)
    for n in (2, 7, 12):
        obs = synthetic_obs(16, task, num_limbs=n, seed=n, scale=3.0)
        # One robot: the same context and masks in every row.
        for key in ("context", "limb_mask", "action_mask"):
            obs[key][:] = obs[key][0]
        mlp = policy.generate_from_observation(_numpy(obs, 0), name=f"synthetic-{n}")
        expected = _hn_actions(policy, obs)
        batch = mlp.act(_numpy(obs))
        assert batch.shape == (16, ACTION_DIM) and batch.dtype == np.float32
        _check(batch, expected)
        for i in range(3):
            single = mlp.act(_numpy(obs, i))
            assert single.shape == (ACTION_DIM,)
            _check(single, expected[i])
        assert np.all(batch[:, obs["action_mask"][0].numpy() == 0] == 0)


def _env_observations(robot: str, task: str, steps: int = 40, seed: int = 0) -> dict:
    from workbench.envs import make_env

    env = make_env(robot, task=task)
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    rows = [obs]
    for _ in range(steps - 1):
        obs, _, terminated, truncated, _ = env.step(rng.uniform(-1, 1, ACTION_DIM).astype(np.float32))
        rows.append(obs)
        if terminated or truncated:
            obs, _ = env.reset()
    env.close()
    return {k: torch.as_tensor(np.stack([r[k] for r in rows])) for k in rows[0]}


@pytest.mark.parametrize("task,robot", [("ft", "gen-train-000"), ("ft", "gen-test-001"), ("vt", "gen-train-003"),
                                        ("obstacle", "gen-train-007")])
def test_generated_mlp_equals_hypernetwork_on_env_observations(task, robot):
    from workbench.morphology import builtin_robot, fingerprint

    policy = _policy(task, seed=1)
    obs = _env_observations(robot, task)
    policy.update_normalizer(obs)
    morph = builtin_robot(robot)
    mlp = policy.generate(morph)
    assert mlp.fingerprint == fingerprint(morph)
    assert mlp.body_names == list(morph.body_names())
    assert np.array_equal(mlp.limb_mask, obs["limb_mask"][0].numpy())
    expected = _hn_actions(policy, obs)
    got = mlp.act(_numpy(obs))
    _check(got, expected)
    _check(mlp.act(_numpy(obs, 5), check=True), expected[5])


def test_generate_from_published_unimal_xml(unimal_dir, tmp_path):
    xml = sorted((unimal_dir / "train" / "xml").glob("*.xml"))[0]
    policy = _policy("ft", seed=2)
    mlp = policy.generate(str(xml))
    obs = _env_observations(str(xml), "ft", steps=10)
    _check(mlp.act(_numpy(obs)), _hn_actions(policy, obs))
    reloaded = load_mlp(mlp.save(tmp_path / "unimal.npz"))
    assert np.array_equal(reloaded.act(_numpy(obs)), mlp.act(_numpy(obs)))


def test_save_load_roundtrip_and_header(tmp_path):
    policy = _policy("vt")
    obs = synthetic_obs(4, "vt", num_limbs=6, seed=0)
    for key in ("context", "limb_mask", "action_mask"):
        obs[key][:] = obs[key][0]
    mlp = policy.generate_from_observation(_numpy(obs, 0), name="six", fingerprint="abc",
                                           body_names=["torso/0"] + [f"limb/{i}" for i in range(5)])
    path = mlp.save(tmp_path / "six.npz")
    with np.load(path, allow_pickle=False) as data:
        assert data["header"].dtype.kind == "U"  # the JSON header is a plain string entry
    loaded = load_mlp(path)
    assert loaded.robot == "six" and loaded.fingerprint == "abc" and loaded.body_names[1] == "limb/0"
    assert loaded.num_parameters == mlp.num_parameters and loaded.flops_per_step == mlp.flops_per_step
    assert np.array_equal(loaded.act(_numpy(obs)), mlp.act(_numpy(obs)))
    with pytest.raises(WorkbenchError, match="limb mask"):
        other = synthetic_obs(1, "vt", num_limbs=3)
        loaded.act(_numpy(other, 0), check=True)


def test_load_mlp_bad_files(tmp_path):
    with pytest.raises(WorkbenchError, match="no such file"):
        load_mlp(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_text("hello")
    with pytest.raises(WorkbenchError, match="junk.npz"):
        load_mlp(junk)
    np.savez(tmp_path / "plain.npz", x=np.zeros(3))
    with pytest.raises(WorkbenchError, match="no header"):
        load_mlp(tmp_path / "plain.npz")
    policy = _policy("ft")
    obs = synthetic_obs(1, "ft", num_limbs=4)
    mlp = policy.generate_from_observation(_numpy(obs, 0))
    newer = GeneratedMLP(mlp.arrays, {**mlp.header, "format_version": 99})
    newer.save(tmp_path / "newer.npz")
    with pytest.raises(WorkbenchError, match="version 99"):
        load_mlp(tmp_path / "newer.npz")
    path = mlp.save(tmp_path / "ok.npz")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(WorkbenchError, match="ok.npz"):
        load_mlp(path)


def test_deploy_runs_without_torch(tmp_path):
    policy = _policy("vt")
    obs = synthetic_obs(3, "vt", num_limbs=5, seed=1)
    for key in ("context", "limb_mask", "action_mask"):
        obs[key][:] = obs[key][0]
    mlp = policy.generate_from_observation(_numpy(obs, 0))
    mlp.save(tmp_path / "mlp.npz")
    np.savez(tmp_path / "obs.npz", **_numpy(obs))
    np.save(tmp_path / "expected.npy", _hn_actions(policy, obs))
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        import workbench.deploy as deploy
        mlp = deploy.load_mlp({str(tmp_path / 'mlp.npz')!r})
        with np.load({str(tmp_path / 'obs.npz')!r}) as data:
            obs = {{k: data[k] for k in data.files}}
        expected = np.load({str(tmp_path / 'expected.npy')!r})
        single = mlp.act({{k: v[0] for k, v in obs.items()}})
        batch = mlp.act(obs)
        assert np.abs(batch - expected).max() < {TOL}, np.abs(batch - expected).max()
        assert np.abs(single - expected[0]).max() < {TOL}
        assert "torch" not in sys.modules, "workbench.deploy imported torch"
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_export_mlp_cli(tmp_path, capsys):
    from workbench.cli import main

    policy = _policy("ft")
    ckpt = save_checkpoint(tmp_path / "hd.pt", policy)
    out = tmp_path / "robot.npz"
    assert main(["export-mlp", "--policy", str(ckpt), "--robot", "gen-train-002", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    mlp = load_mlp(out)
    assert f"parameters: {mlp.num_parameters:,}" in printed
    assert f"FLOPs per step: {mlp.flops_per_step:,}" in printed
    assert mlp.robot == "gen-train-002"
    obs = _env_observations("gen-train-002", "ft", steps=5)
    _check(mlp.act(_numpy(obs)), _hn_actions(policy, obs))
    # A checkpoint that is not a hypernetwork, and a robot that does not exist: one-line errors.
    mm = save_checkpoint(tmp_path / "mm.pt", build_policy(get_model_config("workbench-ft", "mlp")))
    assert main(["export-mlp", "--policy", str(mm), "--robot", "gen-train-002", "--out", str(out)]) == 2
    assert "not a HyperDistill policy" in capsys.readouterr().err
    assert main(["export-mlp", "--policy", str(ckpt), "--robot", "no-such-robot", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
