"""Generator of new robots in the UNIMAL design space (placeholder, filled in next)."""

from __future__ import annotations


def generate_robot(rng_or_seed, name=None):
    raise NotImplementedError("generator not landed yet")


def generate_robots(n, seed, prefix="gen"):
    raise NotImplementedError("generator not landed yet")
