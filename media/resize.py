"""NaViT sizing: how large an image or frame becomes before patching (docs/architecture.md, "Media")."""

from __future__ import annotations

import math
from dataclasses import dataclass

from media.config import MoonViTConfig


@dataclass(slots=True, frozen=True)
class ResizePlan:
    """Target size, zero padding to a multiple of the token cell, and token count."""

    width: int
    height: int
    pad_width: int
    pad_height: int
    num_tokens: int

    @property
    def padded(self) -> tuple[int, int]:
        return self.width + self.pad_width, self.height + self.pad_height


def plan_resize(
    width: int, height: int, cfg: MoonViTConfig, limit: int | None = None
) -> ResizePlan:
    """`scale = min(1, sqrt(limit/(w//p · h//p)), side·p/w, side·p/h)`; never upscale."""
    p, side = cfg.patch_size, cfg.patch_limit_on_one_side
    limit = cfg.in_patch_limit if limit is None else limit
    area = max(1.0, width // p) * max(1.0, height // p)
    scale = min(1.0, math.sqrt(limit / area), side * p / width, side * p / height)
    new_w = min(max(1, int(width * scale)), side * p)
    new_h = min(max(1, int(height * scale)), side * p)
    cell = cfg.cell
    pad_w, pad_h = -new_w % cell, -new_h % cell
    tokens = cfg.fixed_output_tokens
    if tokens is None:
        tokens = ((new_w + pad_w) // cell) * ((new_h + pad_h) // cell)
    return ResizePlan(new_w, new_h, pad_w, pad_h, tokens)


def frame_limit(cfg: MoonViTConfig, sampled_frames: int) -> int:
    """Per-frame patch budget of a video with `sampled_frames` frames."""
    limit = cfg.in_patch_limit_each_frame
    if cfg.in_patch_limit_video is not None:
        limit = min(round(cfg.in_patch_limit_video / max(1, sampled_frames)), limit)
    return limit
