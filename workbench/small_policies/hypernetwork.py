"""The graph hypernetwork: node features -> gated GNN (hidden 16, forward then backward sweep over the
chain) -> decoder emitting a ``(tile, tile)`` block that is sliced/tiled to each tensor's shape."""

from __future__ import annotations

import math

import torch
from torch import nn

from workbench.small_policies.graph import NODE_FEATURES, Graph


class GraphHyperNetwork(nn.Module):
    def __init__(self, hidden: int = 16, tile: int = 32, weight_norm: bool = True) -> None:
        super().__init__()
        self.hidden, self.tile, self.weight_norm = hidden, tile, weight_norm
        self.features_dim = NODE_FEATURES
        self.embed = nn.Linear(NODE_FEATURES, hidden)
        self.forward_cell = nn.GRUCell(hidden, hidden)   # gated message passing i-1 -> i
        self.backward_cell = nn.GRUCell(hidden, hidden)  # then i+1 -> i
        self.decoder = nn.Sequential(nn.Linear(hidden, 64), nn.ReLU(), nn.Linear(64, tile * tile))

    def node_states(self, graphs: list[Graph]) -> torch.Tensor:
        """``(G, N_max, hidden)`` after the forward and the backward sweep, all graphs at once (padded;
        positions past a graph's last node stay outside its sweeps)."""
        n_max = max(g.num_nodes for g in graphs)
        feats = torch.zeros(len(graphs), n_max, self.features_dim)
        mask = torch.zeros(len(graphs), n_max, 1, dtype=torch.bool)
        for k, g in enumerate(graphs):
            feats[k, : g.num_nodes] = g.features
            mask[k, : g.num_nodes] = True
        x = torch.relu(self.embed(feats))                          # (G, N_max, hidden)
        message = torch.zeros(len(graphs), self.hidden)
        forward = []
        for i in range(n_max):                                     # node i-1 -> node i
            message = self.forward_cell(x[:, i], message)
            forward.append(message)
        message = torch.zeros(len(graphs), self.hidden)
        states = [message] * n_max
        for i in reversed(range(n_max)):                           # node i+1 -> node i
            message = torch.where(mask[:, i], self.backward_cell(forward[i], message), message)
            states[i] = message
        return torch.stack(states, 1)

    def forward(self, graphs: list[Graph]) -> list[list[torch.Tensor]]:
        """For each graph, one tensor per node with exactly ``graph.shapes[i]``."""
        h = self.node_states(graphs)                               # (G, N_max, hidden)
        blocks = self.decoder(h).view(len(graphs), -1, self.tile, self.tile)
        return [[self._fit(blocks[k, i], shape) for i, shape in enumerate(g.shapes)] for k, g in enumerate(graphs)]

    def _fit(self, block: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
        rows, cols = (shape[0], shape[1]) if len(shape) == 2 else (shape[0], 1)
        reps = (math.ceil(rows / self.tile), math.ceil(cols / self.tile))
        w = block.repeat(*reps)[:rows, :cols]                      # (rows, cols)
        if len(shape) == 1:
            return w[:, 0] * 0.1
        if self.weight_norm:  # fan-in normalisation: each output row has norm sqrt(2) (He-like scale)
            w = w * (math.sqrt(2.0) / (w.norm(dim=1, keepdim=True) + 1e-6))
        return w
