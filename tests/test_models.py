"""Policies: shapes, padding invariance, permutation equivariance, masks, normaliser, actor-critic."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from workbench.envs import layout
from workbench.models.config import WORKBENCH_ACTION_STD
from workbench.models import (CONFIG_NAMES, METHODS, ActorCritic, HyperDistillConfig, HyperDistillPolicy,
                              build_actor_critic, build_policy, config_from_dict, config_to_dict,
                              get_model_config, to_torch_obs)
from workbench.models.layers import used_limb_slots
from workbench.models.synthetic import synthetic_obs
from workbench.errors import WorkbenchError

ALL = [(name, method) for name in CONFIG_NAMES for method in (*METHODS, "critic")]


def _task(name: str) -> str:
    return name.split("-", 1)[1]


@pytest.mark.parametrize("name,method", ALL)
def test_output_shapes(name, method):
    torch.manual_seed(0)
    model = build_policy(get_model_config(name, method)).eval()
    obs = synthetic_obs(3, _task(name), seed=1)
    with torch.no_grad():
        out = model(obs)
    if method == "critic":
        assert out.shape == (3,)
    else:
        assert out.shape == (3, layout.ACTION_DIM)
        assert torch.all(out[obs["action_mask"] == 0] == 0), "masked action slots must be zero"
    assert torch.isfinite(out).all()


def _garbage(obs, seed=5):
    g = torch.Generator().manual_seed(seed)
    out = {k: v.clone() for k, v in obs.items()}
    pad = (obs["limb_mask"] == 0)
    for key in ("proprioceptive", "context"):
        noise = torch.randn(out[key].shape, generator=g) * 1e3
        out[key] = torch.where(pad[..., None], noise, out[key])
    out["proprioceptive"][pad] = float("nan")  # even NaN in a padded slot must not leak
    return out


@pytest.mark.parametrize("method", (*METHODS, "critic"))
@pytest.mark.parametrize("name", ("workbench-ft", "workbench-vt"))
def test_padded_slots_do_not_influence_real_limbs(name, method):
    torch.manual_seed(0)
    model = build_policy(get_model_config(name, method)).eval()
    obs = synthetic_obs(4, _task(name), num_limbs=[3, 6, 9, 11], seed=2)
    model.update_normalizer(obs)
    with torch.no_grad():
        clean = model(obs)
        dirty = model(_garbage(obs))
    assert torch.allclose(clean, dirty, atol=1e-5, rtol=1e-5)


def _permute(obs, perm):
    """Reorder limb slots by ``perm`` (new slot j holds old slot perm[j]); action slots follow."""
    act_perm = torch.stack([2 * perm, 2 * perm + 1], dim=1).reshape(-1)
    out = dict(obs)
    out["proprioceptive"] = obs["proprioceptive"][:, perm]
    out["context"] = obs["context"][:, perm]
    out["limb_mask"] = obs["limb_mask"][:, perm]
    out["action_mask"] = obs["action_mask"][:, act_perm]
    return out


@pytest.mark.parametrize("encoder", ("linear", "mlp", "transformer"))
def test_hyperdistill_is_permutation_equivariant(encoder):
    torch.manual_seed(0)
    config = HyperDistillConfig(task="vt", hidden_dim=32, num_hidden_layers=3, embed_dim=16,
                                context_encoder=encoder, encoder_feedforward_dim=32, heightmap_dims=(8, 8),
                                hn_weight_init_std=0.05)
    policy = HyperDistillPolicy(config).eval()
    obs = synthetic_obs(5, "vt", num_limbs=12, seed=3)
    # Per-slot normalisation statistics would not follow a permutation: make them identical across slots.
    policy.update_normalizer(obs)
    with torch.no_grad():
        policy.normalizer.proprio_mean.copy_(policy.normalizer.proprio_mean.mean(0, keepdim=True).expand_as(
            policy.normalizer.proprio_mean))
        policy.normalizer.proprio_var.copy_(policy.normalizer.proprio_var.mean(0, keepdim=True).expand_as(
            policy.normalizer.proprio_var))
    perm = torch.randperm(12, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        base = policy.per_limb_outputs(obs)
        permuted = policy.per_limb_outputs(_permute(obs, perm))
    assert torch.allclose(permuted, base[:, perm], atol=1e-5, rtol=1e-4)
    # ... and with padded slots scattered among real ones.
    obs = synthetic_obs(5, "vt", num_limbs=7, seed=4)
    with torch.no_grad():
        base = policy(obs)
        permuted = policy(_permute(obs, perm))
    act_perm = torch.stack([2 * perm, 2 * perm + 1], dim=1).reshape(-1)
    assert torch.allclose(permuted, base[:, act_perm], atol=1e-5, rtol=1e-4)


def test_hyperdistill_hidden_layers_and_dropout():
    config = get_model_config("workbench-ft", "hyperdistill")
    policy = build_policy(dataclasses.replace(config, hn_weight_init_std=0.05))
    assert len(policy.encoders) == 3 and len(policy.hidden_heads) == 1
    obs = synthetic_obs(4, "ft", seed=0)
    policy.train()
    torch.manual_seed(1)
    a = policy(obs)
    b = policy(obs)
    assert not torch.allclose(a, b), "dropout on the context embeddings is active in train mode"
    policy.eval()
    assert torch.equal(policy(obs), policy(obs))


def test_modumorph_starts_with_identical_limbs_and_fixed_attention():
    config = get_model_config("workbench-ft", "modumorph")
    policy = build_policy(config).eval()
    obs = synthetic_obs(2, "ft", num_limbs=6, seed=0)
    cache = policy.context_cache(obs)
    w, _ = cache["embed"]
    assert torch.allclose(w[0, 0], w[0, 3]), "zero-initialised hypernetwork heads: same weights for all limbs"
    weights = cache["weights"][0]
    assert weights.shape == (2, config.num_heads, 12, 12)
    assert torch.all(weights[..., 6:] == 0), "padded keys get no attention"
    with torch.no_grad():
        assert torch.allclose(policy(obs, cache), policy(obs))


def test_transformer_variants_are_configurations():
    meta = build_policy(get_model_config("paper-ft", "metamorph"))
    comp = build_policy(get_model_config("paper-ft", "tf-compressed"))
    assert type(meta) is type(comp)
    assert meta.pos_embedding is not None and comp.pos_embedding is None
    assert len(meta.layers) == 5 and len(comp.layers) == 1


def test_normalizer_is_frozen_unless_updated():
    policy = build_policy(get_model_config("workbench-vt", "mlp")).eval()
    obs = synthetic_obs(64, "vt", seed=0)
    before = {k: v.clone() for k, v in policy.normalizer.state_dict().items()}
    policy(obs)
    for k, v in policy.normalizer.state_dict().items():
        assert torch.equal(v, before[k])
    obs["proprioceptive"] = obs["proprioceptive"] * 3 + 2 * obs["limb_mask"][..., None]
    policy.update_normalizer(obs)
    norm = policy.normalizer
    real = obs["limb_mask"][:, 0] > 0
    torso = obs["proprioceptive"][real, 0].double()
    assert torch.allclose(norm.proprio_mean[0], torso.mean(0), atol=1e-6)
    assert torch.allclose(norm.proprio_var[0], torso.var(0, unbiased=False), atol=1e-5)
    slot = 10
    rows = obs["limb_mask"][:, slot] > 0
    assert norm.proprio_count[slot] == rows.sum()
    assert torch.allclose(norm.proprio_mean[slot], obs["proprioceptive"][rows, slot].double().mean(0), atol=1e-6)
    # Two updates == one update on the concatenation (parallel Welford).
    p2 = build_policy(get_model_config("workbench-vt", "mlp"))
    half = {k: v[:20] for k, v in obs.items()}
    rest = {k: v[20:] for k, v in obs.items()}
    p2.update_normalizer(half)
    p2.update_normalizer(rest)
    for k, v in norm.state_dict().items():
        assert torch.allclose(p2.normalizer.state_dict()[k], v, atol=1e-8), k
    z = norm.normalize_proprioceptive(obs["proprioceptive"] * 1e6, obs["limb_mask"])
    assert z.abs().max() <= norm.clip


def test_actor_critic_interface():
    ac = build_actor_critic(get_model_config("workbench-ft", "modumorph"), get_model_config("workbench-ft", "critic"))
    assert isinstance(ac, ActorCritic) and ac.action_std == pytest.approx(WORKBENCH_ACTION_STD)
    paper = build_actor_critic(get_model_config("paper-ft", "modumorph"), get_model_config("paper-ft", "critic"))
    assert paper.action_std == pytest.approx(0.9)  # the reference's fixed std
    obs = synthetic_obs(5, "ft", seed=0)
    ac.update_normalizer(obs)
    assert torch.equal(ac.actor.normalizer.proprio_mean, ac.critic.normalizer.proprio_mean)
    mean, value = ac(obs)
    assert mean.shape == (5, 24) and value.shape == (5,)
    lp = ac.log_prob(mean, mean + 0.1, obs["action_mask"])
    assert lp.shape == (5,)
    loss = -(lp.sum()) + value.pow(2).sum() + mean.pow(2).sum()
    loss.backward()
    assert any(p.grad is not None for p in ac.actor.parameters())
    assert any(p.grad is not None for p in ac.critic.parameters())
    critic = build_policy(get_model_config("workbench-vt", "critic").__class__(task="vt", arch="transformer",
                                                                               hidden_dim=16, num_layers=1))
    assert critic(synthetic_obs(2, "vt")).shape == (2,)


def test_to_torch_obs_accepts_single_numpy_observation():
    obs = synthetic_obs(1, "vt")
    single = {k: v[0].numpy() for k, v in obs.items()}
    batched = to_torch_obs(single)
    assert batched["proprioceptive"].shape == (1, 12, 52) and batched["heightmap"].shape == (1, 1410)


def test_config_roundtrip_and_errors():
    for name in CONFIG_NAMES:
        for method in (*METHODS, "critic"):
            config = get_model_config(name, method)
            assert config_from_dict(config_to_dict(config)) == config
    with pytest.raises(WorkbenchError):
        get_model_config("paper-moon", "mlp")
    with pytest.raises(WorkbenchError):
        get_model_config("paper-ft", "gnn")
    with pytest.raises(WorkbenchError):
        config_from_dict({"kind": "mlp", "bogus": 1})


@pytest.mark.parametrize("method", ("modumorph", "metamorph"))
@pytest.mark.parametrize("name", ("workbench-ft", "workbench-vt"))
def test_trimming_padded_limb_slots_is_the_same_function(name, method):
    """``trim_padding`` runs only the slots up to the batch's last real limb (7 of 12 here): the same
    actions and the same gradients, per sample, with a per-sample cache and grouped by robot."""
    torch.manual_seed(0)
    model = build_policy(get_model_config(name, method)).eval()
    obs = synthetic_obs(4, _task(name), num_limbs=[3, 6, 7, 5], seed=3)
    model.update_normalizer(obs)
    with torch.no_grad():  # ModuMorph's hypernetwork heads start at zero: make every limb's layer differ
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn(parameter.shape))
    assert used_limb_slots(obs["limb_mask"]) == 7
    assert used_limb_slots(torch.zeros(2, layout.MAX_LIMBS)) == 1

    def actions_and_gradients(**kwargs):
        model.zero_grad()
        out = model(obs, **kwargs)
        (out * torch.linspace(-1.0, 1.0, out.numel()).reshape(out.shape)).sum().backward()
        return out.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    full, full_grads = actions_and_gradients()
    variants = [{"trim_padding": True}, {"trim_padding": True, "cache": model.context_cache(obs)}]
    if method == "modumorph":
        variants.append({"trim_padding": True, "cache": model.context_cache(obs), "robot_index": torch.arange(4)})
    for kwargs in variants:
        trimmed, grads = actions_and_gradients(**kwargs)
        torch.testing.assert_close(trimmed, full, rtol=1e-5, atol=1e-6)
        assert grads.keys() == full_grads.keys()
        for key, value in full_grads.items():
            torch.testing.assert_close(grads[key], value, rtol=1e-4, atol=1e-6)
