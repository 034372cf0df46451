"""Episodes as frames and MP4 files (imageio + ffmpeg), headless on CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from workbench.rendering.gl import configure_gl

configure_gl()

PolicyFn = Callable[[dict], np.ndarray]


def random_policy(action_space, seed: int | None = None) -> PolicyFn:
    """Uniform random actions in ``action_space`` (a Box), seeded."""
    rng = np.random.default_rng(seed)
    low, high = action_space.low, action_space.high

    def act(obs: dict) -> np.ndarray:
        return rng.uniform(low, high).astype(np.float32)

    return act


def render_frames(
    morphology: Any,
    task: str = "ft",
    steps: int = 500,
    policy_fn: PolicyFn | None = None,
    seed: int | None = 0,
    width: int = 480,
    height: int = 480,
    config: Any = None,
    on_step: Callable[[dict, float, bool, bool, dict], None] | None = None,
) -> Iterator[np.ndarray]:
    """Yield ``steps`` frames (H, W, 3) uint8: one after every env step of ``policy_fn``
    (``policy_fn(obs) -> action``; random actions when None). Finished episodes are
    reset and the video continues. ``on_step(obs, reward, terminated, truncated, info)``
    is called after every step (for returns, logging)."""
    from workbench.envs import make_env

    env = make_env(morphology, task=task, render_mode="rgb_array", config=config, width=width, height=height)
    try:
        policy = policy_fn or random_policy(env.action_space, seed)
        obs, _ = env.reset(seed=seed)
        for _ in range(int(steps)):
            obs, reward, terminated, truncated, info = env.step(policy(obs))
            if on_step is not None:
                on_step(obs, reward, terminated, truncated, info)
            yield env.render()
            if terminated or truncated:
                obs, _ = env.reset()
    finally:
        env.close()


def write_video(frames: Iterable[np.ndarray], path: str | Path, fps: float = 50.0, total: int | None = None, progress: bool = True) -> int:
    """Write ``frames`` to an MP4 (H.264) at ``path``; returns the number of frames written."""
    import imageio.v2 as imageio

    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    iterator: Iterable[np.ndarray] = frames
    if progress:
        from tqdm import tqdm

        iterator = tqdm(frames, total=total, unit="frame", desc=f"rendering {path.name}")
    count = 0
    writer = imageio.get_writer(str(path), fps=fps, codec="libx264", macro_block_size=1, quality=7, pixelformat="yuv420p")
    try:
        for frame in iterator:
            frame = np.asarray(frame, dtype=np.uint8)
            h, w = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2  # H.264 / yuv420p: even sizes
            writer.append_data(frame[:h, :w])
            count += 1
    finally:
        writer.close()
    return count
