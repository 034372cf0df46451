"""Weight averaging: the mean of the parameters, equal buffers required, one-line errors, a usable result."""

from __future__ import annotations

import pytest
import torch

from workbench.cli import main
from workbench.models import build_policy, get_model_config, load_checkpoint, save_checkpoint
from workbench.models.averaging import StateDictMismatch, average_state_dicts
from workbench.models.synthetic import synthetic_obs


def test_average_state_dicts_hand_computed() -> None:
    a = {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor([5.0])}
    b = {"w": torch.tensor([3.0, 6.0]), "n": torch.tensor([5.0])}
    c = {"w": torch.tensor([2.0, 1.0]), "n": torch.tensor([5.0])}
    averaged = average_state_dicts([a, b, c], parameter_names={"w"})
    assert torch.equal(averaged["w"], torch.tensor([2.0, 3.0])) and torch.equal(averaged["n"], torch.tensor([5.0]))
    with pytest.raises(StateDictMismatch, match="state 2: buffer n differs") as raised:
        average_state_dicts([a, b, {"w": b["w"], "n": torch.tensor([6.0])}], parameter_names={"w"})
    assert raised.value.index == 2
    with pytest.raises(StateDictMismatch, match="state 1: w has a different shape"):
        average_state_dicts([a, {"w": torch.zeros(3), "n": a["n"]}], parameter_names={"w"})
    with pytest.raises(StateDictMismatch, match="differs in its entries"):
        average_state_dicts([a, {"w": b["w"]}], parameter_names={"w"})


def _student(seed: int, obs: dict[str, torch.Tensor]) -> torch.nn.Module:
    """A HN student of the workbench size with its own weights and the shared observation statistics."""
    torch.manual_seed(seed)
    model = build_policy(get_model_config("workbench-ft", "hyperdistill"))
    model.update_normalizer(obs)
    return model.eval()


def test_cli_writes_the_mean_of_the_parameters_as_a_usable_checkpoint(tmp_path, capsys) -> None:
    obs = synthetic_obs(8, "ft", seed=1)
    paths = []
    for seed in (0, 1, 2):
        paths.append(save_checkpoint(tmp_path / f"round-{seed}.pt", _student(seed, obs), {"distillation": {"seed": seed}}))
    out = tmp_path / "averaged.pt"
    assert main(["average-weights", *map(str, paths), "--out", str(out)]) == 0
    assert "averaged 3 checkpoints" in capsys.readouterr().out

    loaded = [load_checkpoint(path).model.state_dict() for path in paths]
    averaged = load_checkpoint(out)
    names = {name for name, _ in averaged.model.named_parameters()}
    for key, value in averaged.model.state_dict().items():
        if key in names:
            expected = sum(state[key].double() for state in loaded) / 3
            assert torch.allclose(value.double(), expected, atol=1e-6), key
        else:
            assert torch.equal(value, loaded[0][key]), key
    assert averaged.extra["averaged_from"] == [str(path) for path in paths]
    assert averaged.extra["distillation"] == {"seed": 2}  # the last checkpoint's record
    with torch.no_grad():
        actions = averaged.model(obs)
    assert torch.isfinite(actions).all()
    # The average is not just one of its inputs.
    assert not any(torch.equal(actions, load_checkpoint(path).model(obs)) for path in paths)


def test_bad_inputs_are_one_line_errors(tmp_path, capsys) -> None:
    obs = synthetic_obs(8, "ft", seed=1)
    student = save_checkpoint(tmp_path / "student.pt", _student(0, obs))
    other_stats = _student(1, obs)
    other_stats.update_normalizer(synthetic_obs(8, "ft", seed=5))
    other_stats_path = save_checkpoint(tmp_path / "other-stats.pt", other_stats)
    torch.manual_seed(0)
    mlp = save_checkpoint(tmp_path / "mlp.pt", build_policy(get_model_config("workbench-ft", "mlp")))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    cases = [
        ([student, mlp], "not of the same architecture"),
        ([student, other_stats_path, student], "differs (averaging needs equal observation statistics)"),
        ([student, junk], "not a workbench checkpoint"),
        ([student], "at least two checkpoints"),
    ]
    for inputs, message in cases:
        assert main(["average-weights", *map(str, inputs), "--out", str(tmp_path / "out.pt")]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
        if message.startswith("differs (averaging"):
            assert err.startswith(f"error: {other_stats_path}:"), err  # the file that differs is named
    assert not (tmp_path / "out.pt").exists()
