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
        self.embed = nn.Linear(NODE_FEATURES, hidden)
        self.forward_cell = nn.GRUCell(hidden, hidden)   # gated message passing i-1 -> i
        self.backward_cell = nn.GRUCell(hidden, hidden)  # then i+1 -> i
        self.decoder = nn.Sequential(nn.Linear(hidden, 64), nn.ReLU(), nn.Linear(64, tile * tile))

    def node_states(self, graph: Graph) -> torch.Tensor:
        """``(num_nodes, hidden)`` after the forward and the backward sweep."""
        h = torch.relu(self.embed(graph.features))                 # (N, hidden)
        states = list(h.unbind(0))
        message = torch.zeros(1, self.hidden)
        for i in range(len(states)):
            message = self.forward_cell(states[i][None], message)
            states[i] = message[0]
        message = torch.zeros(1, self.hidden)
        for i in reversed(range(len(states))):
            message = self.backward_cell(states[i][None], message)
            states[i] = message[0]
        return torch.stack(states)

    def forward(self, graph: Graph) -> list[torch.Tensor]:
        """One tensor per node with exactly ``graph.shapes[i]``."""
        blocks = self.decoder(self.node_states(graph)).view(-1, self.tile, self.tile)  # (N, tile, tile)
        return [self._fit(block, shape) for block, shape in zip(blocks, graph.shapes)]

    def _fit(self, block: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
        rows, cols = (shape[0], shape[1]) if len(shape) == 2 else (shape[0], 1)
        reps = (math.ceil(rows / self.tile), math.ceil(cols / self.tile))
        w = block.repeat(*reps)[:rows, :cols]                      # (rows, cols)
        if len(shape) == 1:
            return w[:, 0] * 0.1
        if self.weight_norm:  # fan-in normalisation: each output row has norm sqrt(2) (He-like scale)
            w = w * (math.sqrt(2.0) / (w.norm(dim=1, keepdim=True) + 1e-6))
        return w
