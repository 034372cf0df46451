"""The computation graph of an architecture: a chain of parameter-tensor nodes with shape features.

Each linear layer contributes two nodes, its weight ``(out, in)`` and its bias ``(out,)``, in forward order.
Node features (8 numbers) describe the tensor: kind one-hot (weight, bias), is-first-layer, is-last-layer,
log2 of fan-out and fan-in (0 for a bias's fan-in), relative depth, and log2 of the element count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from workbench.small_policies.space import Architecture, layer_dims

NODE_FEATURES = 8


@dataclass(frozen=True)
class Graph:
    """``shapes[i]`` is node i's tensor shape; ``features`` is ``(num_nodes, NODE_FEATURES)``; edges are
    the chain ``i -> i + 1``."""

    shapes: tuple[tuple[int, ...], ...]
    features: torch.Tensor

    @property
    def num_nodes(self) -> int:
        return len(self.shapes)


def build_graph(arch: Architecture, obs_dim: int, act_dim: int) -> Graph:
    dims = layer_dims(arch, obs_dim, act_dim)
    layers = len(dims) - 1
    shapes: list[tuple[int, ...]] = []
    rows: list[list[float]] = []
    for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:])):
        depth = i / max(layers - 1, 1)
        for shape in ((fan_out, fan_in), (fan_out,)):
            is_weight = len(shape) == 2
            shapes.append(shape)
            rows.append([float(is_weight), float(not is_weight), float(i == 0), float(i == layers - 1),
                         math.log2(fan_out), math.log2(fan_in) if is_weight else 0.0, depth,
                         math.log2(math.prod(shape))])
    return Graph(tuple(shapes), torch.tensor(rows, dtype=torch.float32))
