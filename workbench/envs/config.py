"""Typed configuration of the locomotion environments (one dataclass, documented fields).

Defaults follow the published UNIMAL / MetaMorph setting (see
``../shared/reference/unimal-reference.md``); where the reference leaves a detail
open (terrain piece lengths, obstacle heights, instability thresholds) the value
chosen here is documented on the field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

TASKS = ("ft", "vt", "obstacle")


@dataclass(frozen=True)
class EnvConfig:
    """Everything that shapes an episode. ``EnvConfig()`` is the paper's setting."""

    # --- time -------------------------------------------------------------------------
    timestep: float = 0.005
    """MuJoCo physics timestep (s)."""
    frame_skip: int = 4
    """Physics substeps per control step; dt = timestep * frame_skip = 0.02 s."""
    max_episode_steps: int = 1000
    """Control steps before the episode is truncated (20 s)."""

    # --- reset and termination ---------------------------------------------------------
    reset_noise_scale: float = 0.005
    """Half-width of the uniform noise added to qpos and qvel at reset."""
    fall_fraction: float = 0.5
    """FT / Obstacle: terminate when the torso is below this fraction of its standing height: its
    initial height less the ``floor_clearance`` it drops at the start (UNIMAL's ``orig_height``)."""
    fall_fraction_vt: float = 0.3
    """VT: the same, measured above the terrain under the torso."""
    floor_clearance: float = 0.2
    """Gap between a robot's lowest point and the floor in its MJCF (UNIMAL places every robot so)."""
    context_position: str = "absolute"
    """Context features' position transform: "absolute" (paper, Appendix A) or "relative"."""

    # --- strips (VT and Obstacle) ------------------------------------------------------
    strip_width: float = 40.0
    """Width (y extent, m) of the VT / Obstacle strip; leaving it sideways terminates."""
    strip_start: float = -10.0
    """x (m) where the strip begins; the robot starts at x = 0."""
    vt_length: float = 110.0
    """Length (m) of the VT strip."""
    obstacle_length: float = 100.0
    """Length (m) of the Obstacle strip."""
    hfield_resolution: float = 0.1
    """Size (m) of one height-field / height-grid cell."""

    # --- variable terrain --------------------------------------------------------------
    vt_start_flat: float = 4.0
    """Flat ground (m) ahead of the start before the first terrain piece."""
    vt_flat_length: tuple[float, float] = (1.0, 3.0)
    """Length range (m) of the flat pieces joining terrain pieces."""
    vt_slope_height: tuple[float, float] = (0.6, 1.2)
    """Height range (m) of a curved slope (a smooth hill, up then down)."""
    vt_slope_length: tuple[float, float] = (4.0, 8.0)
    """Length range (m) of a curved slope."""
    vt_num_steps: int = 8
    """Steps in a staircase piece (first half up, second half down)."""
    vt_step_height: float = 0.2
    """Rise (m) of one step."""
    vt_step_length: float = 1.0
    """Tread (m) of one step."""
    vt_rugged_length: tuple[float, float] = (4.0, 8.0)
    """Length range (m) of a rugged-squares piece."""
    vt_rugged_square: float = 0.5
    """Side (m) of one rugged square."""
    vt_rugged_height: tuple[float, float] = (0.0, 0.25)
    """Height range (m) of a rugged square."""
    vt_max_height: float = 2.0
    """Height-field elevation scale (m): the highest representable terrain."""
    vt_render_stride: int = 2
    """The renderer draws every n-th height-field sample (physics uses all of them)."""

    # --- obstacles ---------------------------------------------------------------------
    num_obstacles: int = 50
    """Static boxes on the Obstacle strip."""
    obstacle_footprint: tuple[float, float] = (1.0, 2.0)
    """Side length range (m) of a box's footprint."""
    obstacle_height: tuple[float, float] = (0.5, 1.0)
    """Height range (m) of a box."""
    obstacle_clear_radius: float = 3.0
    """No box comes closer than this (m) to the start position."""

    # --- height map --------------------------------------------------------------------
    heightmap_behind: float = 1.0
    """Height map extent behind the torso (m)."""
    heightmap_ahead: float = 4.0
    """Height map extent ahead of the torso (m)."""
    heightmap_side: float = 4.0
    """Height map extent to each side of the torso (m)."""
    heightmap_density: float = 1.5
    """Sample spacing grows as |t| ** density (1: uniform grid; > 1 denser near the torso)."""

    # --- physics safety ----------------------------------------------------------------
    max_qvel: float = 1.0e3
    """|qvel| above this (rad/s or m/s) counts as a physics blow-up."""
    max_qacc: float = 1.0e6
    """|qacc| above this counts as a physics blow-up."""

    def __post_init__(self) -> None:
        if self.frame_skip < 1 or self.timestep <= 0:
            raise ValueError("frame_skip must be >= 1 and timestep > 0")
        if self.max_episode_steps < 1:
            raise ValueError("max_episode_steps must be >= 1")
        if self.context_position not in ("absolute", "relative"):
            raise ValueError("context_position must be 'absolute' or 'relative'")

    @property
    def dt(self) -> float:
        """Control period (s)."""
        return self.timestep * self.frame_skip

    def strip_length(self, task: str) -> float:
        return self.vt_length if task == "vt" else self.obstacle_length

    def replace(self, **changes: Any) -> "EnvConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "EnvConfig":
        known = {f for f in cls.__dataclass_fields__}
        cleaned = {k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items() if k in known}
        return cls(**cleaned)


def check_task(task: str) -> str:
    task = str(task).lower()
    if task not in TASKS:
        from workbench.errors import WorkbenchError

        raise WorkbenchError(f"unknown task {task!r} (choose from {', '.join(TASKS)})")
    return task

