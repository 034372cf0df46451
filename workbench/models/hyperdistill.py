"""HyperDistill: a morphology-conditioned hypernetwork that generates a per-robot base MLP."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workbench.envs import layout
from workbench.models.base import PolicyBase
from workbench.models.config import HyperDistillConfig
from workbench.models.layers import (HyperLinearHead, Obs, TransformerLayer, heightmap_encoder,
                                     key_padding_bias, masked_mean, module_parameter_count)

STATE_INDICES = layout.state_indices()


class ContextEncoder(nn.Module):
    """Per-limb context embedding: ``linear`` (53 -> E), ``mlp`` (53 -> E -> E, ReLU) or
    ``transformer`` (53 -> E, then one pre-LN transformer layer over the robot's real limbs)."""

    def __init__(self, config: HyperDistillConfig) -> None:
        super().__init__()
        e = config.embed_dim
        self.kind = config.context_encoder
        self.input = nn.Linear(layout.CONTEXT.size, e)
        if self.kind == "linear":
            self.rest = None
        elif self.kind == "mlp":
            self.rest = nn.Sequential(nn.ReLU(), nn.Linear(e, e))
        elif self.kind == "transformer":
            self.rest = TransformerLayer(e, config.encoder_heads, config.resolved_encoder_head_dim,
                                         config.encoder_feedforward_dim)
        else:
            raise ValueError(f"unknown context encoder {self.kind!r}")

    def forward(self, context: torch.Tensor, limb_mask: torch.Tensor) -> torch.Tensor:
        e = self.input(context)
        if self.kind == "mlp":
            e = self.rest(e)
        elif self.kind == "transformer":
            e = self.rest(e, key_padding_bias(limb_mask, e.dtype))
        return e


class HyperDistillPolicy(PolicyBase):
    """Hypernetwork policy. Base MLP (per robot, generated):

    - input layer: ``h0 = relu(sum_i (s_i @ W_i + b_i))`` over real limbs i, s_i the 17 state values,
      (W_i, b_i) from limb i's embedding;
    - on VT / Obstacle the height map's plain encoder output is concatenated to h0;
    - hidden layers generated from the mean limb embedding;
    - output layer: ``a_i = h @ W_i + b_i`` per limb (2 action slots), from limb i's embedding.

    Each generated layer has its own context encoder; dropout on the limb and mean embeddings.
    """

    def __init__(self, config: HyperDistillConfig) -> None:
        super().__init__(config, heightmap=config.uses_heightmap)
        e, hdim = config.embed_dim, config.hidden_dim
        std = config.hn_weight_init_std
        hm_dim = config.heightmap_dims[-1] if config.uses_heightmap else 0
        n_state = len(STATE_INDICES)
        self.register_buffer("state_indices", torch.tensor(STATE_INDICES, dtype=torch.long), persistent=False)
        self.hidden_in_dims = [hdim + hm_dim] + [hdim] * (config.num_hidden_layers - 2)
        n_generated = 2 + len(self.hidden_in_dims)
        self.encoders = nn.ModuleList(ContextEncoder(config) for _ in range(n_generated))
        self.input_head = HyperLinearHead(e, n_state, hdim, std, fan_in=n_state * 4)
        self.hidden_heads = nn.ModuleList(HyperLinearHead(e, a, hdim, std) for a in self.hidden_in_dims)
        self.output_head = HyperLinearHead(e, hdim, layout.JOINTS_PER_LIMB, std)
        self.dropout = nn.Dropout(config.context_dropout)
        self.heightmap_encoder = heightmap_encoder(config.heightmap_dims) if config.uses_heightmap else None

    # ------------------------------------------------------------------ the hypernetwork
    def generate_layers(self, context: torch.Tensor, limb_mask: torch.Tensor) -> dict[str, Any]:
        """Generated base-MLP weights for a batch of robots (B, 12, 53) / (B, 12)."""
        context = torch.where(limb_mask[..., None] > 0, context, torch.zeros_like(context))
        encoders = iter(self.encoders)
        e_in = self.dropout(next(encoders)(context, limb_mask))
        w_in, b_in = self.input_head(e_in)
        hidden = []
        for head in self.hidden_heads:
            e_m = self.dropout(masked_mean(next(encoders)(context, limb_mask), limb_mask))
            hidden.append(head(e_m))
        e_out = self.dropout(next(encoders)(context, limb_mask))
        w_out, b_out = self.output_head(e_out)
        return {"input": (w_in, b_in), "hidden": hidden, "output": (w_out, b_out)}

    # ------------------------------------------------------------------ the base MLP
    def per_limb_outputs(self, obs: Obs, layers: dict | None = None) -> torch.Tensor:
        x = self.prepare(obs)
        limb_mask = x["limb_mask"]
        if layers is None:
            layers = self.generate_layers(x["context"], limb_mask)
        m = (limb_mask > 0).to(x["proprio"].dtype)
        s = x["proprio"].index_select(-1, self.state_indices)  # (B, 12, 17)
        w_in, b_in = layers["input"]
        per_limb = torch.einsum("bli,blio->blo", s, w_in) + b_in  # (B, 12, H)
        h = F.relu((per_limb * m[..., None]).sum(1))
        if self.heightmap_encoder is not None:
            h = torch.cat([h, self.heightmap_encoder(x["heightmap"])], dim=-1)
        for w, b in layers["hidden"]:
            h = F.relu(torch.einsum("bi,bio->bo", h, w) + b)
        w_out, b_out = layers["output"]
        return torch.einsum("bi,blio->blo", h, w_out) + b_out  # (B, 12, 2)

    def forward(self, obs: Obs, layers: dict | None = None) -> torch.Tensor:
        return self.mask_actions(self.per_limb_outputs(obs, layers), obs[layout.OBS_ACTION_MASK])

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def generate_arrays(self, context: np.ndarray, limb_mask: np.ndarray, action_mask: np.ndarray) -> dict:
        """The base MLP of one robot as float32 numpy arrays (eval mode: no dropout)."""
        was_training = self.training
        self.eval()
        try:
            ctx = torch.as_tensor(np.asarray(context, dtype=np.float32))[None]
            lm = torch.as_tensor(np.asarray(limb_mask, dtype=np.float32))[None]
            layers = self.generate_layers(ctx, lm)
        finally:
            self.train(was_training)
        limb_mask = np.asarray(limb_mask, dtype=np.float32)
        action_mask = np.asarray(action_mask, dtype=np.float32)
        limbs = np.flatnonzero(limb_mask > 0)
        actions = np.flatnonzero(action_mask > 0)
        w_in, b_in = (t[0].numpy() for t in layers["input"])
        arrays: dict[str, np.ndarray] = {
            # Per-limb input weights stacked over the real limbs: (n * 17, H); biases summed.
            "input_weight": np.ascontiguousarray(w_in[limbs].reshape(-1, w_in.shape[-1]), dtype=np.float32),
            "input_bias": b_in[limbs].sum(0, dtype=np.float32).astype(np.float32),
        }
        for k, (w, b) in enumerate(layers["hidden"]):
            arrays[f"hidden{k}_weight"] = np.ascontiguousarray(w[0].numpy(), dtype=np.float32)
            arrays[f"hidden{k}_bias"] = b[0].numpy().astype(np.float32)
        w_out, b_out = layers["output"]
        w_out = w_out[0].numpy()  # (12, H, 2)
        b_out = b_out[0].numpy()  # (12, 2)
        w_full = np.transpose(w_out, (1, 0, 2)).reshape(w_out.shape[1], layout.ACTION_DIM)
        arrays["output_weight"] = np.ascontiguousarray(w_full[:, actions], dtype=np.float32)
        arrays["output_bias"] = b_out.reshape(layout.ACTION_DIM)[actions].astype(np.float32)
        if self.heightmap_encoder is not None:
            linears = [m for m in self.heightmap_encoder if isinstance(m, nn.Linear)]
            for k, lin in enumerate(linears):
                arrays[f"heightmap{k}_weight"] = np.ascontiguousarray(lin.weight.detach().numpy().T, dtype=np.float32)
                arrays[f"heightmap{k}_bias"] = lin.bias.detach().numpy().astype(np.float32)
        stats = {k: v.numpy() for k, v in self.normalizer.statistics().items()}
        idx = np.asarray(STATE_INDICES)
        arrays["state_mean"] = np.ascontiguousarray(stats["proprio_mean"][limbs][:, idx], dtype=np.float32)
        arrays["state_std"] = np.ascontiguousarray(stats["proprio_std"][limbs][:, idx], dtype=np.float32)
        if self.heightmap_encoder is not None:
            arrays["heightmap_mean"] = stats["heightmap_mean"].astype(np.float32)
            arrays["heightmap_std"] = stats["heightmap_std"].astype(np.float32)
        arrays["limb_slots"] = limbs.astype(np.int64)
        arrays["action_slots"] = actions.astype(np.int64)
        arrays["state_indices"] = idx.astype(np.int64)
        arrays["limb_mask"] = limb_mask
        arrays["action_mask"] = action_mask
        return arrays

    def generate_from_observation(self, obs: dict, name: str = "robot", fingerprint: str = "",
                                  body_names: list[str] | None = None):
        """A :class:`~workbench.deploy.GeneratedMLP` from one (unbatched) observation's context and masks."""
        from workbench.deploy import GeneratedMLP

        arrays = self.generate_arrays(np.asarray(obs[layout.OBS_CONTEXT]), np.asarray(obs[layout.OBS_LIMB_MASK]),
                                      np.asarray(obs[layout.OBS_ACTION_MASK]))
        return GeneratedMLP.from_arrays(arrays, header={
            "robot": name, "fingerprint": fingerprint, "body_names": list(body_names or []),
            "task": self.config.task, "hidden_layers": len(self.hidden_heads),
            "heightmap_layers": 0 if self.heightmap_encoder is None else len(self.config.heightmap_dims),
            "clip": self.normalizer.clip,
        })

    def generate(self, morphology):
        """Generate the base MLP of ``morphology`` (a Morphology, a UNIMAL XML path or a robot name)."""
        from workbench import morphology as morph_pkg

        if not hasattr(morphology, "body_names"):
            morphology = morph_pkg.load_robot(morphology)
        obs = {
            layout.OBS_CONTEXT: morph_pkg.context_features(morphology),
            layout.OBS_LIMB_MASK: morph_pkg.limb_mask(morphology),
            layout.OBS_ACTION_MASK: morph_pkg.action_mask(morphology),
        }
        return self.generate_from_observation(obs, name=morphology.name,
                                              fingerprint=morph_pkg.fingerprint(morphology),
                                              body_names=list(morphology.body_names()))

    # ------------------------------------------------------------------ accounting
    def inference_parameters(self, norms: bool = True) -> dict[str, int]:
        """Parameters of the generated MLP of a full robot (12 limbs, all 24 action slots)."""
        full = np.ones(layout.MAX_LIMBS, dtype=np.float32)
        arrays = self.generate_arrays(np.zeros((layout.MAX_LIMBS, layout.CONTEXT.size), np.float32), full,
                                      np.ones(layout.ACTION_DIM, np.float32))
        from workbench.deploy import is_parameter

        return {k: int(v.size) for k, v in arrays.items() if is_parameter(k)}

    def inference_parameter_count(self, norms: bool = True) -> int:
        return sum(self.inference_parameters(norms).values())


__all__ = ["HyperDistillPolicy", "ContextEncoder", "STATE_INDICES", "module_parameter_count"]
