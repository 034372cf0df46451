"""Robot-grouped minibatches with a reproducible order.

An epoch visits every robot's transitions once in chunks of ``chunk_size`` rows of one robot (a
robot's last incomplete chunk is left out of that epoch; the rows are reshuffled every epoch, so it is
different rows each time). Chunks are shuffled across robots and ``chunks_per_batch`` consecutive
chunks form a minibatch, so a minibatch holds a few robots x many transitions and a hypernetwork
generates each robot's weights once per minibatch.

The order of epoch ``e`` depends only on ``(seed, e)``: resuming needs nothing but the epoch and the
position inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Minibatch:
    """``robots[c]`` is the robot of chunk c and ``rows[c]`` (n,) its transitions (block-relative)."""

    robots: np.ndarray
    rows: np.ndarray


class ChunkSampler:
    """Reproducible robot-grouped minibatches over robots with ``counts[r]`` transitions each."""

    def __init__(self, counts: Sequence[int], chunk_size: int, chunks_per_batch: int, seed: int) -> None:
        self.counts = np.asarray(counts, dtype=np.int64)
        if chunk_size < 1 or chunks_per_batch < 1:
            raise ValueError("chunk_size and chunks_per_batch must be >= 1")
        if len(self.counts) == 0 or int(self.counts.max()) < chunk_size:
            raise ValueError(f"no robot has {chunk_size} transitions (a whole chunk)")
        self.chunk_size = int(chunk_size)
        self.chunks_per_batch = int(chunks_per_batch)
        self.seed = int(seed)

    @property
    def chunks_per_epoch(self) -> int:
        return int((self.counts // self.chunk_size).sum())

    @property
    def batches_per_epoch(self) -> int:
        return -(-self.chunks_per_epoch // self.chunks_per_batch)

    def epoch(self, epoch: int) -> list[Minibatch]:
        """The minibatches of ``epoch`` (0-based), in order."""
        rng = np.random.default_rng([self.seed, epoch])
        robots: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        for robot, count in enumerate(self.counts.tolist()):
            whole = count // self.chunk_size
            if whole == 0:
                continue
            order = rng.permutation(count)[: whole * self.chunk_size].reshape(whole, self.chunk_size)
            rows.append(order)
            robots.append(np.full(whole, robot, dtype=np.int64))
        all_rows = np.concatenate(rows)
        all_robots = np.concatenate(robots)
        shuffle = rng.permutation(len(all_robots))
        all_rows, all_robots = all_rows[shuffle], all_robots[shuffle]
        step = self.chunks_per_batch
        return [Minibatch(all_robots[i:i + step], all_rows[i:i + step]) for i in range(0, len(all_robots), step)]
