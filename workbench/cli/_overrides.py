"""``--set KEY=VALUE`` options shared by the training and distillation commands."""

from __future__ import annotations

import json
from typing import Any

from workbench.errors import WorkbenchError


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["epochs=4", "name=x"]`` -> ``{"epochs": 4, "name": "x"}`` (values parsed as JSON, else kept as text)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise WorkbenchError(f"--set expects KEY=VALUE, got {item!r}")
        key = key.strip().replace("-", "_")
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out
