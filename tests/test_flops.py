"""Parameter / FLOP counting: hand-computed cases, Table 1, and cross-checks against the modules."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from workbench.analysis.flops import (PAPER_GENERATION_FLOPS, PAPER_TABLE1, attention, count_hyperdistill,
                                      count_policy, generation_flops, linear, table1, transformer_layer)
from workbench.models import (CONFIG_NAMES, METHODS, HyperDistillConfig, MLPConfig, TransformerConfig,
                              build_policy, get_model_config)
from workbench.models.synthetic import synthetic_obs

TASKS = ("ft", "vt", "obstacle")


def test_linear_layer():
    c = linear(3, 4)
    assert (c.params, c.flops) == (16, 24)  # (M+1)N, 2MN
    c = linear(3, 4, tokens=12, copies=12)  # a per-limb layer: 12 weight sets, 12 tokens
    assert (c.params, c.flops) == (192, 288)


def test_attention_hand_computed():
    # e = 4, 2 heads of width 4, 3 tokens, ordinary attention:
    # q, k, v: 3 x (4+1)*4 params per head -> 120; flops 3 proj x 3 tokens x 2*4*4 x 2 heads = 576
    # scores 3^2 x 2*4 x 2 = 144; aggregation 2 x 3^2 x 4 x 2 = 144; output (8+1)*4 = 36 / 2*8*4*3 = 192.
    c = attention(4, 2, 4, tokens=3)
    assert (c.params, c.flops) == (156, 576 + 144 + 144 + 192)
    # Fixed attention: only the value projection and the aggregation run per step.
    c = attention(4, 2, 4, tokens=3, fixed=True)
    assert (c.params, c.flops) == (40 + 36, 192 + 144 + 192)
    layer = transformer_layer(4, 1, 4, 8, tokens=3, include_norm=True)
    attn = attention(4, 1, 4, tokens=3)
    assert layer.params == attn.params + (5 * 8 + 9 * 4) + 4 * 4
    assert layer.flops == attn.flops + 3 * (2 * 4 * 8 * 2)


def test_small_policies_hand_computed():
    hd = HyperDistillConfig(task="ft", hidden_dim=8, num_hidden_layers=2)
    c = count_policy(hd)  # 204 -> 8 -> 8 -> 24
    assert (c.params, c.flops) == (205 * 8 + 9 * 8 + 9 * 24, 2 * (204 * 8 + 8 * 8 + 8 * 24))
    c = count_hyperdistill(hd, num_limbs=5, num_actions=7)  # 85 -> 8 -> 8 -> 7
    assert (c.params, c.flops) == (86 * 8 + 72 + 9 * 7, 2 * (85 * 8 + 64 + 56))
    hd_vt = HyperDistillConfig(task="vt", hidden_dim=8, num_hidden_layers=3, heightmap_dims=(4,))
    c = count_policy(hd_vt)  # 204 -> 8, 1410 -> 4, (8+4) -> 8, 8 -> 8, 8 -> 24
    assert c.params == 205 * 8 + 1411 * 4 + 13 * 8 + 9 * 8 + 9 * 24
    mlp = MLPConfig(task="ft", hidden_dim=8, num_hidden_layers=1)
    assert count_policy(mlp).params == (12 * 52 + 1) * 8 + 9 * 24
    mm = TransformerConfig(task="ft", variant="modumorph", d_model=4, num_layers=1, num_heads=1,
                           feedforward_dim=8)
    c = count_policy(mm)
    embed = 12 * 53 * 4  # per-limb embedding counted 12 times
    decoder = 12 * 5 * 2
    layer = (5 * 4 + 5 * 4) + (5 * 8 + 9 * 4)  # value + output projection, feed-forward
    assert c.params == embed + decoder + layer
    flops = 12 * 2 * 52 * 4 + (12 * 2 * 16 + 2 * 144 * 4 + 12 * 2 * 16) + 12 * 2 * 2 * 32 + 12 * 2 * 4 * 2
    assert c.flops == flops


def _close(ours: float, paper: float, decimals: int) -> bool:
    """Within 2% of the published figure, or equal to it at the precision the paper prints."""
    return abs(ours - paper) <= max(0.02 * abs(paper), 0.5 * 10 ** -decimals + 1e-12)


@pytest.mark.parametrize("task", TASKS)
def test_table1_reproduced_within_two_percent(task):
    for row in table1(task):
        p_abs, p_rel, f_abs, f_rel = PAPER_TABLE1[task][row.method]
        assert _close(row.params / 1e6, p_abs, 2), (row.method, row.params, p_abs)
        assert _close(row.flops / 1e6, f_abs, 2), (row.method, row.flops, f_abs)
        assert _close(row.params_rel, p_rel, 1), (row.method, row.params_rel, p_rel)
        assert _close(row.flops_rel, f_rel, 1), (row.method, row.flops_rel, f_rel)
        # As printed (same precision as the paper), every figure is within 2%.
        assert abs(round(row.params / 1e6, 2) - p_abs) <= 0.02 * p_abs + 1e-9
        assert abs(round(row.flops / 1e6, 2) - f_abs) <= 0.02 * f_abs + 1e-9
        assert abs(round(row.params_rel, 1) - p_rel) <= 0.02 * p_rel + 1e-9
        assert abs(round(row.flops_rel, 1) - f_rel) <= 0.02 * f_rel + 1e-9


def test_exact_headline_figures():
    rows = {r.method: r for r in table1("ft")}
    assert rows["hyperdistill"].params == 124_440 and rows["hyperdistill"].flops == 247_808
    assert rows["modumorph"].params == 1_730_584 and rows["modumorph"].flops == 39_856_128


@pytest.mark.parametrize("task", TASKS)
def test_generation_flops_near_paper(task):
    gen = generation_flops(get_model_config(f"paper-{task}", "hyperdistill")).flops
    assert abs(gen / PAPER_GENERATION_FLOPS[task] - 1) < 0.05


POLICIES = [(name, method) for name in CONFIG_NAMES for method in METHODS]


@pytest.mark.parametrize("name,method", POLICIES)
def test_counted_parameters_match_modules(name, method):
    config = get_model_config(name, method)
    model = build_policy(config)
    assert count_policy(config, include_norm=True).params == model.inference_parameter_count(norms=True)
    assert count_policy(config, include_norm=False).params == model.inference_parameter_count(norms=False)


@pytest.mark.parametrize("name,method", POLICIES)
def test_counted_flops_match_torch_flop_counter(name, method):
    """torch's FLOP counter (2 M N K per matmul) on one step, context-only parts precomputed."""
    config = get_model_config(name, method)
    model = build_policy(config).eval()
    obs = synthetic_obs(1, name.split("-", 1)[1], num_limbs=12, seed=0)
    obs["action_mask"][:] = 1.0
    with torch.no_grad():
        if method == "hyperdistill":
            kwargs = {"layers": model.generate_layers(obs["context"], obs["limb_mask"])}
        elif method.startswith("modumorph"):
            kwargs = {"cache": model.context_cache(obs)}
        else:
            kwargs = {}
        counter = FlopCounterMode(display=False)
        with counter:
            model(obs, **kwargs)
    assert counter.get_total_flops() == count_policy(config).flops


@pytest.mark.parametrize("task", TASKS)
def test_generated_mlp_counts_match(task):
    config = get_model_config(f"workbench-{task}", "hyperdistill")
    policy = build_policy(config).eval()
    obs = synthetic_obs(1, task, num_limbs=7, seed=2)
    mlp = policy.generate_from_observation({k: v[0].numpy() for k, v in obs.items()})
    n = int(obs["limb_mask"].sum())
    a = int(obs["action_mask"].sum())
    count = count_hyperdistill(config, num_limbs=n, num_actions=a)
    assert mlp.num_parameters == count.params
    assert mlp.flops_per_step == count.flops
    full = count_policy(get_model_config(f"paper-{task}", "hyperdistill"))
    assert build_policy(get_model_config(f"paper-{task}", "hyperdistill")).inference_parameter_count() == full.params


def test_flops_cli_prints_table_and_csv(capsys):
    from workbench.cli import main

    for task in TASKS:
        assert main(["flops", "--task", task]) == 0
        out = capsys.readouterr().out
        assert "HyperDistill" in out and "ModuMorph (oracle)" in out and "Generating" in out
    assert main(["flops", "--task", "ft", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("task,method,params")
    rows = [dict(zip(lines[0].split(","), line.split(","))) for line in lines[1:]]
    hd = next(r for r in rows if r["method"] == "hyperdistill")
    assert hd["params"] == "124440" and hd["flops"] == "247808"
    # The console entry point works too.
    done = subprocess.run([sys.executable, "-m", "workbench", "flops", "--task", "obstacle"],
                          capture_output=True, text=True, check=True)
    assert "Obstacle" in done.stdout
