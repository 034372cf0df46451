"""Run a generated HyperDistill MLP without the hypernetwork and without torch (numpy only).

``GeneratedMLP`` holds one robot's base MLP as float32 arrays plus what it needs on its own: the limb
order (MuJoCo body names), limb and action masks, the normalisation statistics of the slots it reads
and the robot's structural fingerprint. Files are one ``.npz``: the arrays plus ``header``, a JSON
string (format, version, robot, fingerprint, body names, ...).

    >>> from workbench.deploy import load_mlp
    >>> mlp = load_mlp("robot.npz")
    >>> action = mlp.act(observation)       # (24,) for one observation, (B, 24) for a batch

This package must never import torch (a test checks it in a fresh interpreter).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from workbench.errors import WorkbenchError
from workbench.files import atomic_write

FORMAT_NAME = "hyperdistill-workbench-mlp"
FORMAT_VERSION = 1
# Mirrors workbench.envs.layout (not imported: the env package pulls in the simulator).
MAX_LIMBS = 12
PROPRIOCEPTIVE_SIZE = 52
ACTION_DIM = 24
OBS_PROPRIOCEPTIVE = "proprioceptive"
OBS_HEIGHTMAP = "heightmap"
OBS_LIMB_MASK = "limb_mask"


def is_parameter(key: str) -> bool:
    """Whether an array of a generated MLP is a network parameter (weight or bias)."""
    return key.endswith(("_weight", "_bias"))


class GeneratedMLP:
    """One robot's base MLP (float32 numpy).

    Arrays: ``input_weight`` (n*17, H) (the real limbs' per-limb input weights stacked in slot order),
    ``input_bias`` (H,) (their biases summed), ``heightmap{k}_weight/bias`` (plain height-map encoder),
    ``hidden{k}_weight/bias``, ``output_weight`` (H, a) and ``output_bias`` (a,) for the robot's a real
    action slots ``action_slots``; ``state_mean`` / ``state_std`` (n, 17) and ``heightmap_mean/std``
    the normalisation statistics; ``limb_slots``, ``state_indices``, ``limb_mask``, ``action_mask``.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], header: Mapping[str, Any]) -> None:
        self.arrays = {k: np.asarray(v) for k, v in arrays.items()}
        self.header = dict(header)
        self._prepare()

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], header: Mapping[str, Any]) -> "GeneratedMLP":
        full = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION}
        full.update(header)
        return cls(arrays, full)

    # ------------------------------------------------------------------ metadata
    @property
    def robot(self) -> str:
        return str(self.header.get("robot", ""))

    @property
    def fingerprint(self) -> str:
        return str(self.header.get("fingerprint", ""))

    @property
    def body_names(self) -> list[str]:
        return list(self.header.get("body_names", []))

    @property
    def limb_mask(self) -> np.ndarray:
        return self.arrays["limb_mask"]

    @property
    def action_mask(self) -> np.ndarray:
        return self.arrays["action_mask"]

    def parameter_arrays(self) -> dict[str, np.ndarray]:
        return {k: v for k, v in self.arrays.items() if is_parameter(k)}

    @property
    def num_parameters(self) -> int:
        """Weights and biases of the MLP (normalisation statistics and index arrays excluded)."""
        return int(sum(v.size for v in self.parameter_arrays().values()))

    @property
    def flops_per_step(self) -> int:
        """2 M N per linear layer (the paper's Appendix B.2)."""
        return int(sum(2 * v.shape[0] * v.shape[1] for k, v in self.arrays.items() if k.endswith("_weight")))

    # ------------------------------------------------------------------ running
    def _prepare(self) -> None:
        a = self.arrays
        self._clip = np.float32(self.header.get("clip", 10.0))
        limbs = a["limb_slots"].astype(np.int64)
        state = a["state_indices"].astype(np.int64)
        # Flat indices of the real limbs' state values inside the flattened (12, 52) observation.
        self._flat_index = (limbs[:, None] * PROPRIOCEPTIVE_SIZE + state[None, :]).reshape(-1)
        self._mean = np.ascontiguousarray(a["state_mean"].reshape(-1), dtype=np.float32)
        self._inv_std = np.ascontiguousarray(1.0 / a["state_std"].reshape(-1).astype(np.float64), dtype=np.float32)
        self._w_in = np.ascontiguousarray(a["input_weight"], dtype=np.float32)
        self._b_in = np.ascontiguousarray(a["input_bias"], dtype=np.float32)
        hidden_width = self._w_in.shape[1]
        self._hm_layers = []
        k = 0
        while f"heightmap{k}_weight" in a:
            self._hm_layers.append((np.ascontiguousarray(a[f"heightmap{k}_weight"], dtype=np.float32),
                                    np.ascontiguousarray(a[f"heightmap{k}_bias"], dtype=np.float32)))
            k += 1
        if self._hm_layers:
            self._hm_mean = np.ascontiguousarray(a["heightmap_mean"], dtype=np.float32)
            self._hm_inv_std = np.ascontiguousarray(1.0 / a["heightmap_std"].astype(np.float64), dtype=np.float32)
        self._hidden = []
        k = 0
        while f"hidden{k}_weight" in a:
            w = np.ascontiguousarray(a[f"hidden{k}_weight"], dtype=np.float32)
            b = np.ascontiguousarray(a[f"hidden{k}_bias"], dtype=np.float32)
            if k == 0 and self._hm_layers:
                # Joining the height-map features by concatenation == splitting the weight rows.
                self._hidden.append((w[:hidden_width], b, np.ascontiguousarray(w[hidden_width:])))
            else:
                self._hidden.append((w, b, None))
            k += 1
        # Output straight into the 24 padded slots (zero columns for slots without a motor).
        actions = a["action_slots"].astype(np.int64)
        w_out = np.zeros((a["output_weight"].shape[0], ACTION_DIM), dtype=np.float32)
        w_out[:, actions] = a["output_weight"]
        b_out = np.zeros(ACTION_DIM, dtype=np.float32)
        b_out[actions] = a["output_bias"]
        self._w_out, self._b_out = w_out, b_out
        # Optional squash of the real action slots: tanh(out) * action_scale + action_bias (small policies).
        self._squash = None
        if "action_scale" in a:
            self._squash = (actions, np.asarray(a["action_scale"], np.float32), np.asarray(a["action_bias"], np.float32))

    def act(self, observation: Mapping[str, Any], check: bool = False) -> np.ndarray:
        """Action mean for one observation (24,) or a batch (B, 24). ``check=True`` verifies that the
        observation's limb mask is this robot's."""
        proprio = np.asarray(observation[OBS_PROPRIOCEPTIVE], dtype=np.float32)
        single = proprio.ndim == 2
        if check:
            mask = np.asarray(observation[OBS_LIMB_MASK]).reshape(-1, MAX_LIMBS)
            if not np.array_equal(mask > 0, np.broadcast_to(self.limb_mask > 0, mask.shape)):
                raise WorkbenchError(f"observation's limb mask does not match robot {self.robot!r}")
        x = proprio.reshape(-1)[self._flat_index] if single else \
            proprio.reshape(proprio.shape[0], -1)[:, self._flat_index]
        x -= self._mean
        x *= self._inv_std
        np.clip(x, -self._clip, self._clip, out=x)
        h = x @ self._w_in
        h += self._b_in
        np.maximum(h, 0.0, out=h)
        g = None
        if self._hm_layers:
            hm = np.asarray(observation[OBS_HEIGHTMAP], dtype=np.float32)
            g = (hm - self._hm_mean) * self._hm_inv_std
            np.clip(g, -self._clip, self._clip, out=g)
            for w, b in self._hm_layers:
                g = g @ w
                g += b
                np.maximum(g, 0.0, out=g)
        for w, b, w_extra in self._hidden:
            y = h @ w
            if w_extra is not None:
                y += g @ w_extra
            y += b
            np.maximum(y, 0.0, out=y)
            h = y
        out = h @ self._w_out
        out += self._b_out
        if self._squash is not None:
            slots, scale, bias = self._squash
            out[..., slots] = np.tanh(out[..., slots]) * scale + bias
        return out

    __call__ = act

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Write one ``.npz`` (arrays + JSON header) atomically."""
        path = Path(path)
        header = np.array(json.dumps(self.header, sort_keys=True))
        return atomic_write(path, lambda handle: np.savez(handle, header=header, **self.arrays))

    def summary(self) -> str:
        return (f"{self.robot}: {self.num_parameters:,} parameters, {self.flops_per_step:,} FLOPs per step, "
                f"{int(self.limb_mask.sum())} limbs, {int(self.action_mask.sum())} actions")


def load_mlp(path: str | Path) -> GeneratedMLP:
    """Load a generated MLP written by :meth:`GeneratedMLP.save`."""
    path = Path(path)
    if not path.is_file():
        raise WorkbenchError("no such file", path=path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception:  # noqa: BLE001 - any read failure is a bad file
        raise WorkbenchError("not a generated-MLP file (cannot read it as .npz)", path=path) from None
    if "header" not in arrays:
        raise WorkbenchError("not a generated-MLP file (no header)", path=path)
    try:
        header = json.loads(str(arrays.pop("header")))
    except ValueError:
        raise WorkbenchError("generated-MLP header is not valid JSON", path=path) from None
    if header.get("format") != FORMAT_NAME:
        raise WorkbenchError("not a generated-MLP file (wrong format name)", path=path)
    if header.get("format_version") != FORMAT_VERSION:
        raise WorkbenchError(f"generated-MLP format version {header.get('format_version')} is not supported "
                             f"(this workbench reads version {FORMAT_VERSION})", path=path)
    try:
        return GeneratedMLP(arrays, header)
    except (KeyError, ValueError, IndexError) as error:
        raise WorkbenchError(f"generated-MLP file is incomplete ({error})", path=path) from None


__all__ = ["GeneratedMLP", "load_mlp", "is_parameter", "FORMAT_VERSION"]
