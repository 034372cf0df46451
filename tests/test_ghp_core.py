"""Graph hyper policies: space counts, graph construction, generated shapes, replay buffer, SAC losses."""

import numpy as np
import pytest
import torch
from torch import nn

from workbench.errors import WorkbenchError
from workbench.small_policies import space
from workbench.small_policies.actors import Actor
from workbench.small_policies.graph import build_graph
from workbench.small_policies.replay import ReplayBuffer
from workbench.small_policies.sac import actor_loss, alpha_loss, critic_loss, td_target


def test_space_size_and_counts_match_torch_modules():
    archs = space.all_architectures()
    assert len(archs) == 4680 and len(set(archs)) == 4680
    for arch in [(4,), (8, 4, 4, 4), (16, 32, 32, 4), (512, 512, 512, 512)]:
        dims = space.layer_dims(arch, 11, 3)
        mods = nn.Sequential(*[nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:])])
        c = space.count(arch, 11, 3)
        assert c.params == sum(p.numel() for p in mods.parameters())
        assert c.flops == sum(2 * a * b for a, b in zip(dims[:-1], dims[1:]))


def test_graph_is_a_chain_of_weight_and_bias_nodes():
    g = build_graph((16, 4), 11, 3)
    assert g.shapes == ((16, 11), (16,), (4, 16), (4,), (6, 4), (6,))
    assert g.features.shape == (6, 8)
    assert g.features[:, 0].tolist() == [1, 0, 1, 0, 1, 0]


@pytest.mark.parametrize("arch", [(4,), (8, 4, 4, 4), (512, 64), (32, 512, 4)])
def test_every_generated_tensor_has_its_layer_shape(arch):
    actor = Actor("ghp", 11, 3, -np.ones(3), np.ones(3))
    params = actor.mlp_params(arch)
    assert [tuple(p.shape) for p in params] == list(build_graph(arch, 11, 3).shapes)


def test_malformed_architecture_is_a_workbench_error():
    assert space.parse_architecture("16,32,32,4") == (16, 32, 32, 4)
    for bad in ["16,x", "3", "4,4,4,4,4", ""]:
        with pytest.raises(WorkbenchError):
            space.parse_architecture(bad)


def test_replay_buffer_wraps_and_round_trips():
    buf = ReplayBuffer(3, 2, 1)
    for i in range(4):
        buf.add(np.full(2, i), np.full(1, i), float(i), np.full(2, i + 1), i == 3)
    assert buf.size == 3 and buf.pos == 1
    assert buf.obs[:, 0].tolist() == [3, 1, 2] and buf.dones[:, 0].tolist() == [1, 0, 0]
    other = ReplayBuffer(3, 2, 1)
    other.load_state_dict(buf.state_dict())
    b1, b2 = buf.sample(5, np.random.default_rng(0)), other.sample(5, np.random.default_rng(0))
    assert all(np.array_equal(b1[k], b2[k]) for k in b1)


def test_sac_losses_against_hand_computed_values():
    r, d = torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [1.0]])
    y = td_target(r, d, torch.tensor([[3.0], [5.0]]), torch.tensor([[4.0], [1.0]]),
                  torch.tensor([[-1.0], [0.0]]), alpha=0.5, gamma=0.9)
    assert torch.allclose(y, torch.tensor([[1 + 0.9 * (3 + 0.5)], [2.0]]))
    q1, q2 = torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [2.0]])
    assert critic_loss(q1, q2, torch.tensor([[1.0], [1.0]])).item() == pytest.approx(0.5 + 1.0)
    assert actor_loss(q1, q2, torch.tensor([[2.0], [0.0]]), 0.5).item() == pytest.approx(((1 - 0) + (0 - 2)) / 2)
    la = torch.tensor(0.0)
    assert alpha_loss(la, torch.tensor([[1.0], [3.0]]), -3.0).item() == pytest.approx(-((1 - 3) + (3 - 3)) / 2)
