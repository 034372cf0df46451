"""Text drawn onto video frames (policy name, running return), with Pillow."""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np


@lru_cache(maxsize=8)
def _font(size: int):
    """Pillow's bundled font at ``size`` pixels (FreeType when available; no system font needed)."""
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def overlay_text(
    frame: np.ndarray,
    lines: Sequence[str],
    font_size: int | None = None,
    margin: int = 6,
    color: tuple[int, int, int] = (255, 255, 255),
    box_color: tuple[int, int, int, int] = (0, 0, 0, 150),
) -> np.ndarray:
    """A copy of ``frame`` (H, W, 3) uint8 with ``lines`` written in its top-left corner on a
    translucent box (readable on the sky, the floor and the robot alike).

    ``font_size`` defaults to about 1/20 of the frame height (at least 8 px)."""
    from PIL import Image, ImageDraw

    frame = np.asarray(frame, dtype=np.uint8)
    if not lines:
        return frame.copy()
    size = font_size or max(8, frame.shape[0] // 20)
    font = _font(int(size))
    text = "\n".join(lines)
    base = Image.fromarray(frame).convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    left, top, right, bottom = draw.multiline_textbbox((margin, margin), text, font=font, spacing=2)
    pad = max(2, int(size) // 4)
    draw.rectangle((left - pad, top - pad, right + pad, bottom + pad), fill=box_color)
    draw.multiline_text((margin, margin), text, font=font, fill=(*color, 255), spacing=2)
    return np.asarray(Image.alpha_composite(base, layer).convert("RGB"))


def hstack_frames(frames: Sequence[np.ndarray], gap: int = 4, gap_color: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """Frames of equal height side by side, ``gap`` pixels of ``gap_color`` between them."""
    frames = [np.asarray(f, dtype=np.uint8) for f in frames]
    heights = {f.shape[0] for f in frames}
    if len(heights) != 1:
        raise ValueError(f"frames to put side by side must have one height, got {sorted(heights)}")
    height = heights.pop()
    parts: list[np.ndarray] = []
    for i, frame in enumerate(frames):
        if i and gap > 0:
            parts.append(np.broadcast_to(np.asarray(gap_color, np.uint8), (height, gap, 3)))
        parts.append(frame[..., :3])
    return np.concatenate(parts, axis=1)
