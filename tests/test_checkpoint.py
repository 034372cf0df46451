"""Checkpoints: save / load / compare for every kind; clear one-line errors for bad files."""

from __future__ import annotations

import os

import pytest
import torch

from workbench.errors import WorkbenchError
from workbench.models import (FORMAT_VERSION, METHODS, ActorCritic, build_actor_critic, build_policy,
                              get_model_config, load_checkpoint, load_policy, save_checkpoint)
from workbench.models.synthetic import synthetic_obs


def _outputs(model, obs):
    with torch.no_grad():
        return model(obs)


@pytest.mark.parametrize("method", (*METHODS, "critic"))
@pytest.mark.parametrize("task", ("ft", "obstacle"))
def test_policy_roundtrip(tmp_path, task, method):
    torch.manual_seed(0)
    config = get_model_config(f"workbench-{task}", method)
    model = build_policy(config)
    obs = synthetic_obs(8, task, seed=1)
    model.update_normalizer(obs)
    model.eval()
    path = save_checkpoint(tmp_path / f"{method}.pt", model)
    ckpt = load_checkpoint(path)
    assert ckpt.kind == "policy" and ckpt.config == config and type(ckpt.model) is type(model)
    assert not ckpt.model.training
    assert torch.equal(_outputs(ckpt.model, obs), _outputs(model, obs))
    for key, value in model.state_dict().items():  # normaliser statistics included
        assert torch.equal(ckpt.model.state_dict()[key], value), key
    assert type(load_policy(path)) is type(model)


@pytest.mark.parametrize("method", METHODS)
def test_actor_critic_roundtrip_with_extra(tmp_path, method):
    torch.manual_seed(0)
    model = build_actor_critic(get_model_config("workbench-vt", method), get_model_config("workbench-vt", "critic"))
    obs = synthetic_obs(6, "vt", seed=2)
    model.update_normalizer(obs)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    mean, value = model(obs)
    (mean.pow(2).sum() + value.pow(2).sum()).backward()
    optimizer.step()
    model.eval()
    extra = {"optimizer": optimizer.state_dict(), "iteration": 7, "rng": torch.get_rng_state(),
             "robots": ["a", "b"], "scaler": {"mean": 1.5}}
    path = save_checkpoint(tmp_path / "ac.pt", model, extra=extra)
    ckpt = load_checkpoint(path)
    assert ckpt.kind == "actor_critic" and isinstance(ckpt.model, ActorCritic)
    assert ckpt.critic_config == model.critic.config and ckpt.policy is ckpt.model.actor
    m1, v1 = _outputs(model, obs)
    m2, v2 = _outputs(ckpt.model, obs)
    assert torch.equal(m1, m2) and torch.equal(v1, v2)
    assert ckpt.extra["iteration"] == 7 and ckpt.extra["robots"] == ["a", "b"]
    fresh = torch.optim.Adam(ckpt.model.parameters(), lr=1e-3)
    fresh.load_state_dict(ckpt.extra["optimizer"])  # the trainer can resume from it


def test_paper_config_roundtrip(tmp_path):
    model = build_policy(get_model_config("paper-ft", "modumorph")).eval()
    path = save_checkpoint(tmp_path / "teacher.pt", model)
    obs = synthetic_obs(2, "ft")
    assert torch.equal(_outputs(load_policy(path), obs), _outputs(model, obs))


def test_save_is_atomic(tmp_path, monkeypatch):
    model = build_policy(get_model_config("workbench-ft", "mlp"))
    path = save_checkpoint(tmp_path / "keep.pt", model)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(OSError):
        save_checkpoint(path, model)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["keep.pt"]  # no temp files left behind


def _one_line_error(path) -> str:
    with pytest.raises(WorkbenchError) as info:
        load_policy(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_bad_checkpoints(tmp_path):
    model = build_policy(get_model_config("workbench-ft", "hyperdistill"))
    good = save_checkpoint(tmp_path / "good.pt", model)

    text = tmp_path / "notes.pt"
    text.write_text("this is not a checkpoint\n")
    assert "not a workbench checkpoint" in _one_line_error(text)

    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)  # a torch file, but not ours
    assert "not a workbench checkpoint" in _one_line_error(other)

    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert "truncated" in _one_line_error(truncated)

    payload = torch.load(good, weights_only=True)
    payload["format_version"] = FORMAT_VERSION + 1
    future = tmp_path / "future.pt"
    torch.save(payload, future)
    message = _one_line_error(future)
    assert f"version {FORMAT_VERSION + 1}" in message and "not supported" in message

    payload = torch.load(good, weights_only=True)
    payload["observation_layout"]["max_limbs"] = 16
    layout_file = tmp_path / "layout.pt"
    torch.save(payload, layout_file)
    assert "observation layout" in _one_line_error(layout_file)

    payload = torch.load(good, weights_only=True)
    payload["config"]["hidden_dim"] = 7
    mismatch = tmp_path / "mismatch.pt"
    torch.save(payload, mismatch)
    assert "does not match" in _one_line_error(mismatch)

    assert "no such checkpoint" in _one_line_error(tmp_path / "missing.pt")


def test_cli_reports_bad_checkpoint_in_one_line(tmp_path, capsys):
    from workbench.cli import main

    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04garbage")
    assert main(["export-mlp", "--policy", str(bad), "--robot", "gen-train-000", "--out", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and str(bad) in err and "\n" not in err
