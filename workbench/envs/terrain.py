"""Terrain of the VT and Obstacle strips, and the height map the policy sees.

Both tasks keep a *height grid* per episode: heights (m) on a regular grid of
``config.hfield_resolution`` over the strip, rows along y and columns along x
(the MuJoCo height-field layout). On VT the grid *is* the height field; on
Obstacle it is the boxes rasterised onto the flat floor. The height map
observation samples the grid bilinearly on a separable grid around
the torso, rotated to the torso heading, relative to the height under the torso.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.envs import layout as L
from workbench.envs.config import EnvConfig


@dataclass(frozen=True)
class GridGeometry:
    """Where a height grid lies: x of column 0, y of row 0, cell size, shape."""

    x0: float
    y0: float
    res: float
    nrow: int
    ncol: int

    @classmethod
    def for_task(cls, task: str, config: EnvConfig) -> "GridGeometry":
        res = config.hfield_resolution
        length = config.strip_length(task)
        return cls(
            x0=config.strip_start,
            y0=-config.strip_width / 2,
            res=res,
            nrow=int(round(config.strip_width / res)) + 1,
            ncol=int(round(length / res)) + 1,
        )

    @property
    def x1(self) -> float:
        return self.x0 + (self.ncol - 1) * self.res

    @property
    def y1(self) -> float:
        return self.y0 + (self.nrow - 1) * self.res

    def xs(self) -> np.ndarray:
        return self.x0 + self.res * np.arange(self.ncol)

    def ys(self) -> np.ndarray:
        return self.y0 + self.res * np.arange(self.nrow)


# ---------------------------------------------------------------------------------------
# Variable terrain
# ---------------------------------------------------------------------------------------
def variable_terrain(rng: np.random.Generator, geom: GridGeometry, config: EnvConfig) -> np.ndarray:
    """A VT strip: flat start, then curved slopes, staircases and rugged squares joined by
    flat pieces, drawn from ``rng``. Returns (nrow, ncol) float32 heights >= 0."""
    xs = geom.xs()
    profile = np.zeros(geom.ncol)  # height along x (slopes, steps)
    heights = np.zeros((geom.nrow, geom.ncol), np.float32)
    x = config.vt_start_flat
    end = geom.x1
    while x < end:
        x += rng.uniform(*config.vt_flat_length)
        if x >= end:
            break
        kind = rng.integers(3)
        if kind == 0:  # curved slope: a smooth hill of height h over length ell
            h = rng.uniform(*config.vt_slope_height)
            ell = rng.uniform(*config.vt_slope_length)
            inside = (xs >= x) & (xs < x + ell)
            t = (xs[inside] - x) / ell
            profile[inside] = h * 0.5 * (1.0 - np.cos(2.0 * np.pi * t))
            x += ell
        elif kind == 1:  # staircase: first half of the steps up, second half down
            n = config.vt_num_steps
            for k in range(n):
                level = (k + 1) if k < n // 2 else (n - k - 1)
                inside = (xs >= x + k * config.vt_step_length) & (xs < x + (k + 1) * config.vt_step_length)
                profile[inside] = level * config.vt_step_height
            x += n * config.vt_step_length
        else:  # rugged squares: a patch of squares of random heights over the whole width
            ell = rng.uniform(*config.vt_rugged_length)
            side = config.vt_rugged_square
            c0 = int(np.searchsorted(xs, x))
            c1 = int(np.searchsorted(xs, x + ell))
            cells = max(1, int(round(side / geom.res)))
            nx = -(-(c1 - c0) // cells)
            ny = -(-geom.nrow // cells)
            squares = rng.uniform(*config.vt_rugged_height, size=(ny, nx)).astype(np.float32)
            block = np.repeat(np.repeat(squares, cells, axis=0), cells, axis=1)
            heights[:, c0:c1] = block[: geom.nrow, : c1 - c0]
            x += ell
    heights += profile[None, :].astype(np.float32)
    np.clip(heights, 0.0, config.vt_max_height, out=heights)
    return heights


# ---------------------------------------------------------------------------------------
# Obstacles
# ---------------------------------------------------------------------------------------
def place_obstacles(
    rng: np.random.Generator, half_sizes: np.ndarray, geom: GridGeometry, config: EnvConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Random centres (n, 2) and headings (n,) of the boxes, clear of the start area."""
    n = len(half_sizes)
    centres = np.zeros((n, 2))
    yaw = rng.uniform(0.0, np.pi, n)
    for k in range(n):
        radius = float(np.hypot(half_sizes[k, 0], half_sizes[k, 1]))
        for _ in range(100):
            cx = rng.uniform(geom.x0 + radius, geom.x1 - radius)
            cy = rng.uniform(geom.y0 + radius, geom.y1 - radius)
            if np.hypot(cx, cy) > config.obstacle_clear_radius + radius:
                break
        centres[k] = (cx, cy)
    return centres, yaw


def rasterise_obstacles(
    centres: np.ndarray, yaw: np.ndarray, half_sizes: np.ndarray, geom: GridGeometry
) -> np.ndarray:
    """Height grid (nrow, ncol) float32 of boxes standing on a flat floor."""
    heights = np.zeros((geom.nrow, geom.ncol), np.float32)
    for (cx, cy), a, (hx, hy, hz) in zip(centres, yaw, half_sizes):
        r = float(np.hypot(hx, hy))
        c0 = max(0, int(np.floor((cx - r - geom.x0) / geom.res)))
        c1 = min(geom.ncol, int(np.ceil((cx + r - geom.x0) / geom.res)) + 1)
        r0 = max(0, int(np.floor((cy - r - geom.y0) / geom.res)))
        r1 = min(geom.nrow, int(np.ceil((cy + r - geom.y0) / geom.res)) + 1)
        if c0 >= c1 or r0 >= r1:
            continue
        dx = geom.x0 + geom.res * np.arange(c0, c1) - cx
        dy = geom.y0 + geom.res * np.arange(r0, r1) - cy
        ca, sa = np.cos(a), np.sin(a)
        lx = ca * dx[None, :] + sa * dy[:, None]
        ly = -sa * dx[None, :] + ca * dy[:, None]
        inside = (np.abs(lx) <= hx) & (np.abs(ly) <= hy)
        patch = heights[r0:r1, c0:c1]
        np.maximum(patch, np.where(inside, 2.0 * hz, 0.0).astype(np.float32), out=patch)
    return heights


# ---------------------------------------------------------------------------------------
# Height map observation
# ---------------------------------------------------------------------------------------
def _axis_samples(n_neg: int, n_pos: int, neg: float, pos: float, density: float) -> np.ndarray:
    """Sorted samples from -neg to +pos with 0 included, spacing growing away from 0."""
    back = -neg * (np.arange(n_neg, 0, -1) / n_neg) ** density if n_neg else np.zeros(0)
    ahead = pos * (np.arange(0, n_pos + 1) / n_pos) ** density
    return np.concatenate([back, ahead])


def heightmap_offsets(config: EnvConfig) -> np.ndarray:
    """(1410, 2) sample offsets (forward, left) in the torso heading frame, row-major
    over HEIGHTMAP_SHAPE = (30 forward samples, 47 lateral samples)."""
    nf, nl = L.HEIGHTMAP_SHAPE
    span = config.heightmap_behind + config.heightmap_ahead
    n_back = max(1, int(round((nf - 1) * config.heightmap_behind / span)))
    forward = _axis_samples(n_back, nf - 1 - n_back, config.heightmap_behind, config.heightmap_ahead, config.heightmap_density)
    half = (nl - 1) // 2
    lateral = _axis_samples(half, half, config.heightmap_side, config.heightmap_side, config.heightmap_density)
    assert forward.shape == (nf,) and lateral.shape == (nl,)
    fx, ly = np.meshgrid(forward, lateral, indexing="ij")
    return np.stack([fx.ravel(), ly.ravel()], axis=1)


def sample_grid(flat_grids: np.ndarray, grid_index: np.ndarray, geom: GridGeometry, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear heights at world points (x, y) of shape (n, k) on grids ``grid_index`` (n,).

    ``flat_grids`` is (num_grids * nrow * ncol,) float32; points off the strip take
    the height at the strip's edge.
    """
    fc = np.clip((x - geom.x0) / geom.res, 0.0, geom.ncol - 1.000001)
    fr = np.clip((y - geom.y0) / geom.res, 0.0, geom.nrow - 1.000001)
    c = fc.astype(np.int64)
    r = fr.astype(np.int64)
    tc = (fc - c).astype(np.float32)
    tr = (fr - r).astype(np.float32)
    base = (grid_index.astype(np.int64) * (geom.nrow * geom.ncol))[:, None] + r * geom.ncol + c
    h00 = flat_grids[base]
    h01 = flat_grids[base + 1]
    h10 = flat_grids[base + geom.ncol]
    h11 = flat_grids[base + geom.ncol + 1]
    top = h00 + (h01 - h00) * tc
    bottom = h10 + (h11 - h10) * tc
    return top + (bottom - top) * tr


def heading_from_quat(quat: np.ndarray) -> np.ndarray:
    """Yaw (n,) of the body x axis projected on the floor, from (n, 4) quaternions (w, x, y, z)."""
    w, x, y, z = quat[:, 0], quat[:, 1], quat[:, 2], quat[:, 3]
    return np.arctan2(2.0 * (x * y + w * z), 1.0 - 2.0 * (y * y + z * z))


def heightmaps(
    flat_grids: np.ndarray,
    grid_index: np.ndarray,
    geom: GridGeometry,
    offsets: np.ndarray,
    torso_xy: np.ndarray,
    yaw: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Height maps (n, 1410) float32 relative to the height under the torso, and that height (n,)."""
    c, s = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    fx, ly = offsets[None, :, 0], offsets[None, :, 1]
    px = torso_xy[:, :1] + c * fx - s * ly
    py = torso_xy[:, 1:2] + s * fx + c * ly
    pts_x = np.concatenate([torso_xy[:, :1], px], axis=1)
    pts_y = np.concatenate([torso_xy[:, 1:2], py], axis=1)
    h = sample_grid(flat_grids, grid_index, geom, pts_x, pts_y)
    under = h[:, 0]
    return (h[:, 1:] - under[:, None]).astype(np.float32), under.astype(np.float64)


def ground_height(flat_grids: np.ndarray, grid_index: np.ndarray, geom: GridGeometry, xy: np.ndarray) -> np.ndarray:
    """Terrain height (n,) under points (n, 2)."""
    return sample_grid(flat_grids, grid_index, geom, xy[:, :1], xy[:, 1:2])[:, 0].astype(np.float64)
