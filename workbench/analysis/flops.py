"""Inference-time parameter and FLOP counting, from configurations only (pure functions).

Conventions (the paper's Appendix B.2, ``shared/reference/unimal-reference.md``):

- a linear layer with M inputs and N outputs costs ``2 M N`` FLOPs and has ``(M + 1) N`` parameters;
  activations, normalisation, softmax, additions are free;
- attention over L = 12 tokens of width e with h heads of width ``head_dim`` (= e in the paper
  configurations): per head, the value projection (and, unless attention is fixed, the query and key
  projections) ``L * 2 * e * head_dim`` each, the scores ``L^2 * 2 * head_dim`` (not with fixed
  attention) and the aggregation ``2 * L^2 * head_dim``; then the output projection
  (h * head_dim -> e) and the feed-forward layers, per token;
- hypernetworks and context encoders are excluded (they run once per robot; see
  :func:`generation_flops`); ModuMorph's generated per-limb embedding and decoder parameters count once
  per limb slot (12 times);
- LayerNorm parameters are left out of the paper figures (``include_norm=False``); with
  ``include_norm=True`` the count equals the modules' actual inference-time parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.envs import layout
from workbench.models.config import (CriticConfig, HyperDistillConfig, MLPConfig, TransformerConfig,
                                     get_model_config)

L = layout.MAX_LIMBS
OBS = layout.PROPRIOCEPTIVE.size
CTX = layout.CONTEXT.size
STATE = layout.STATE_DIM


@dataclass(frozen=True)
class Count:
    """Parameters and FLOPs, with a per-part breakdown ``(name, params, flops)``."""

    params: int
    flops: int
    parts: tuple[tuple[str, int, int], ...] = ()

    def __add__(self, other: "Count") -> "Count":
        return Count(self.params + other.params, self.flops + other.flops, self.parts + other.parts)


ZERO = Count(0, 0)


def linear(m: int, n: int, tokens: int = 1, copies: int = 1, name: str = "linear") -> Count:
    """A linear layer M -> N applied to ``tokens`` tokens; ``copies`` distinct weight sets (ModuMorph's
    per-limb layers: parameters counted once per copy)."""
    params = (m + 1) * n * copies
    flops = 2 * m * n * tokens
    return Count(params, flops, ((name, params, flops),))


def chain(dims: list[int] | tuple[int, ...], tokens: int = 1, copies: int = 1, name: str = "mlp") -> Count:
    total = ZERO
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        total = total + linear(a, b, tokens, copies, f"{name}[{i}]")
    return total


def layer_norm(width: int, include: bool, name: str = "norm") -> Count:
    return Count(2 * width, 0, ((name, 2 * width, 0),)) if include else ZERO


def attention(e: int, heads: int, head_dim: int, tokens: int = L, fixed: bool = False, name: str = "attn") -> Count:
    """One attention block (projections, scores, aggregation, output projection)."""
    projections = 1 if fixed else 3
    proj = Count((e + 1) * head_dim * projections * heads, tokens * 2 * e * head_dim * projections * heads)
    scores = 0 if fixed else tokens * tokens * 2 * head_dim * heads
    aggregation = 2 * tokens * tokens * head_dim * heads
    out = linear(heads * head_dim, e, tokens)
    params = proj.params + out.params
    flops = proj.flops + scores + aggregation + out.flops
    return Count(params, flops, ((name, params, flops),))


def transformer_layer(e: int, heads: int, head_dim: int, ff: int, tokens: int = L, fixed: bool = False,
                      include_norm: bool = False, name: str = "layer") -> Count:
    return (layer_norm(e, include_norm, f"{name}.norm1")
            + attention(e, heads, head_dim, tokens, fixed, f"{name}.attn")
            + layer_norm(e, include_norm, f"{name}.norm2")
            + chain([e, ff, e], tokens, name=f"{name}.ff"))


def heightmap_encoder(dims: tuple[int, ...]) -> Count:
    return chain([layout.HEIGHTMAP_SIZE, *dims], name="heightmap_encoder")


# ---------------------------------------------------------------------------- policies
def count_transformer(c: TransformerConfig, include_norm: bool = False) -> Count:
    modumorph = c.variant == "modumorph"
    copies = L if modumorph else 1
    d = c.d_model
    total = linear(OBS, d, L, copies, "embed")
    if c.positional_embedding:
        total = total + Count(L * d, 0, (("pos_embedding", L * d, 0),))
    for i in range(c.num_layers):
        total = total + transformer_layer(d, c.num_heads, c.resolved_head_dim, c.feedforward_dim, L,
                                          fixed=modumorph, include_norm=include_norm, name=f"layer{i}")
    if c.final_norm:
        total = total + layer_norm(d, include_norm, "final_norm")
    hm = 0
    if c.uses_heightmap:
        total = total + heightmap_encoder(c.heightmap_dims)
        hm = c.heightmap_dims[-1]
    total = total + chain([d + hm, *c.decoder_hidden_dims, c.outputs_per_limb], L, copies, "decoder")
    return total


def count_hyperdistill(c: HyperDistillConfig, num_limbs: int = L, num_actions: int = layout.ACTION_DIM) -> Count:
    """The generated base MLP of a robot with ``num_limbs`` real limbs and ``num_actions`` real action
    slots (defaults: the padded maximum, as the paper counts)."""
    h = c.hidden_dim
    total = linear(STATE * num_limbs, h, name="input")
    hm = 0
    if c.uses_heightmap:
        total = total + heightmap_encoder(c.heightmap_dims)
        hm = c.heightmap_dims[-1]
    dims = [h + hm] + [h] * (c.num_hidden_layers - 1)
    for i, a in enumerate(dims[:-1]):
        total = total + linear(a, h, name=f"hidden{i}")
    return total + linear(h, num_actions, name="output")


def count_mlp(c: MLPConfig) -> Count:
    per_limb = OBS + (CTX if c.use_context else 0)
    h = c.hidden_dim
    total = linear(L * per_limb, h, name="input")
    hm = 0
    if c.uses_heightmap:
        total = total + heightmap_encoder(c.heightmap_dims)
        hm = c.heightmap_dims[-1]
    dims = [h + hm] + [h] * (c.num_hidden_layers - 1)
    for i, a in enumerate(dims[:-1]):
        total = total + linear(a, h, name=f"hidden{i}")
    return total + linear(h, layout.ACTION_DIM, name="output")


def count_policy(config, include_norm: bool = False) -> Count:
    """Inference-time parameters and FLOPs per step of a policy configuration."""
    if isinstance(config, TransformerConfig):
        return count_transformer(config, include_norm)
    if isinstance(config, HyperDistillConfig):
        return count_hyperdistill(config)
    if isinstance(config, MLPConfig):
        return count_mlp(config)
    if isinstance(config, CriticConfig):
        raise TypeError("critics are not counted (training only)")
    raise TypeError(f"not a model configuration: {config!r}")


def generation_flops(c: HyperDistillConfig, num_limbs: int = L) -> Count:
    """One-off cost of generating the base MLP: the context encoders (one per generated layer) and the
    hypernetwork output heads (per limb for the input and output layers, once for hidden layers)."""
    e, h, n = c.embed_dim, c.hidden_dim, num_limbs
    hm = c.heightmap_dims[-1] if c.uses_heightmap else 0
    hidden_in = [h + hm] + [h] * (c.num_hidden_layers - 2)

    def encoder(name: str) -> Count:
        enc = linear(CTX, e, n, name=f"{name}.input")
        if c.context_encoder == "mlp":
            enc = enc + linear(e, e, n, name=f"{name}.mlp")
        elif c.context_encoder == "transformer":
            enc = enc + transformer_layer(e, c.encoder_heads, c.resolved_encoder_head_dim,
                                          c.encoder_feedforward_dim, tokens=n, name=f"{name}.layer")
        return enc

    total = encoder("encoder_input") + linear(e, STATE * h, n, name="head_input_w") + linear(e, h, n, name="head_input_b")
    for i, a in enumerate(hidden_in):
        total = total + encoder(f"encoder_hidden{i}") + linear(e, a * h, name=f"head_hidden{i}_w") \
            + linear(e, h, name=f"head_hidden{i}_b")
    total = total + encoder("encoder_output") + linear(e, h * 2, n, name="head_output_w") \
        + linear(e, 2, n, name="head_output_b")
    return total


# ---------------------------------------------------------------------------- Table 1
TABLE1_METHODS = (
    ("modumorph", "ModuMorph (oracle)"),
    ("tf-compressed", "TF (compressed)"),
    ("modumorph-compressed", "ModuMorph (compressed)"),
    ("mlp", "Multi-robot MLP"),
    ("hyperdistill", "HyperDistill"),
)

# The paper's Table 1: (params M, params rel., FLOPs M, FLOPs rel.) per task and method.
PAPER_TABLE1 = {
    "ft": {
        "modumorph": (1.73, 14.0, 39.86, 160.8),
        "tf-compressed": (0.14, 1.1, 3.39, 13.7),
        "modumorph-compressed": (0.15, 1.2, 1.78, 7.2),
        "mlp": (0.23, 1.9, 0.46, 1.9),
        "hyperdistill": (0.12, 1.0, 0.25, 1.0),
    },
    "vt": {
        "modumorph": (1.97, 6.6, 40.33, 67.2),
        "tf-compressed": (0.31, 1.0, 5.51, 9.2),
        "modumorph-compressed": (0.39, 1.3, 2.26, 3.8),
        "mlp": (0.41, 1.4, 0.82, 1.4),
        "hyperdistill": (0.30, 1.0, 0.60, 1.0),
    },
    "obstacle": {
        "modumorph": (2.02, 6.7, 40.43, 67.4),
        "tf-compressed": (0.32, 1.0, 5.61, 9.3),
        "modumorph-compressed": (0.44, 1.5, 2.35, 3.9),
        "mlp": (0.41, 1.4, 0.82, 1.4),
        "hyperdistill": (0.30, 1.0, 0.60, 1.0),
    },
}
# The paper's Appendix C.1: FLOPs of generating the base MLP with the HN.
PAPER_GENERATION_FLOPS = {"ft": 43e6, "vt": 65e6, "obstacle": 65e6}


@dataclass(frozen=True)
class TableRow:
    method: str
    label: str
    params: int
    flops: int
    params_rel: float
    flops_rel: float
    paper: tuple[float, float, float, float]


def table1(task: str) -> list[TableRow]:
    """Table 1 for ``task`` computed from the ``paper-<task>`` configurations."""
    counts = {m: count_policy(get_model_config(f"paper-{task}", m)) for m, _ in TABLE1_METHODS}
    ref = counts["hyperdistill"]
    return [TableRow(m, label, counts[m].params, counts[m].flops, counts[m].params / ref.params,
                     counts[m].flops / ref.flops, PAPER_TABLE1[task][m]) for m, label in TABLE1_METHODS]


__all__ = [
    "Count", "linear", "chain", "attention", "transformer_layer", "count_policy", "count_transformer",
    "count_hyperdistill", "count_mlp", "generation_flops", "table1", "TableRow", "TABLE1_METHODS",
    "PAPER_TABLE1", "PAPER_GENERATION_FLOPS",
]
