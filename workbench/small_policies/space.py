"""The architecture space: ReLU MLP actors with 1-4 hidden layers of width 4..512 (4,680 architectures).

An architecture is the tuple of hidden widths, e.g. ``(16, 32, 32, 4)``. The actor maps an observation of
``obs_dim`` to a Gaussian head of ``2 * act_dim`` outputs (mean and log-std), as CleanRL's SAC actor.
"""

from __future__ import annotations

import itertools

from workbench.analysis.flops import Count, chain
from workbench.errors import WorkbenchError

WIDTHS: tuple[int, ...] = (4, 8, 16, 32, 64, 128, 256, 512)
MAX_DEPTH = 4

Architecture = tuple[int, ...]


def all_architectures() -> list[Architecture]:
    """Every architecture of the space, by depth then lexicographically: 8 + 64 + 512 + 4096 = 4,680."""
    return [a for d in range(1, MAX_DEPTH + 1) for a in itertools.product(WIDTHS, repeat=d)]


def layer_dims(arch: Architecture, obs_dim: int, act_dim: int) -> list[int]:
    """Feature sizes through the actor: ``[obs_dim, *arch, 2 * act_dim]``."""
    return [obs_dim, *arch, 2 * act_dim]


def count(arch: Architecture, obs_dim: int, act_dim: int) -> Count:
    """Exact parameters and FLOPs per step (``workbench.analysis.flops`` conventions: 2MN per linear)."""
    return chain(layer_dims(arch, obs_dim, act_dim), name="actor")


def parse_architecture(text: str) -> Architecture:
    """``"16,32,32,4"`` -> ``(16, 32, 32, 4)``; anything outside the space is a WorkbenchError."""
    try:
        arch = tuple(int(t) for t in text.replace(" ", "").split(","))
    except ValueError:
        raise WorkbenchError(f"architecture {text!r} is not a comma-separated list of widths") from None
    validate(arch)
    return arch


def validate(arch: Architecture) -> Architecture:
    if not 1 <= len(arch) <= MAX_DEPTH or any(w not in WIDTHS for w in arch):
        raise WorkbenchError(f"architecture {','.join(map(str, arch))} is outside the space "
                             f"(1-{MAX_DEPTH} hidden layers, widths {','.join(map(str, WIDTHS))})")
    return tuple(arch)


def capacity(arch: Architecture, obs_dim: int) -> int:
    """The paper's capacity proxy: first-layer width times input size plus the narrowest downstream width."""
    return arch[0] * obs_dim + min(arch[1:] or arch[:1])
