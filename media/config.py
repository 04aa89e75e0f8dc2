"""MoonViT-3D preprocessing settings (`media_proc_cfg`) and the request limits.

Defaults are Kimi K2.5's published values (docs/architecture.md, "Media"); a model folder's
`preprocessor_config.json` overrides them through `MoonViTConfig.from_dict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(slots=True, frozen=True)
class MoonViTConfig:
    """How images and video frames become patches."""

    patch_size: int = 14
    merge_kernel_size: int = 2
    in_patch_limit: int = 16384
    patch_limit_on_one_side: int = 512
    in_patch_limit_each_frame: int = 4096
    in_patch_limit_video: int | None = None
    fixed_output_tokens: int | None = None
    sample_fps: float = 2.0
    temporal_merge_kernel_size: int = 4
    image_mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    image_std: tuple[float, float, float] = (0.5, 0.5, 0.5)

    @property
    def cell(self) -> int:
        """Side of one LLM token cell in pixels (patch 14 × merge 2 = 28)."""
        return self.patch_size * self.merge_kernel_size

    @classmethod
    def from_dict(cls, cfg: dict[str, Any]) -> MoonViTConfig:
        """Build from a `media_proc_cfg` dict; unknown keys are ignored."""
        merge = cfg.get("merge_kernel_size", 2)
        if isinstance(merge, list | tuple):
            merge = merge[0]
        frame_limit = cfg.get("in_patch_limit_each_frame") or cfg.get("in_patch_limit", 16384)
        return cls(
            patch_size=int(cfg.get("patch_size", 14)),
            merge_kernel_size=int(merge),
            in_patch_limit=int(cfg.get("in_patch_limit", 16384)),
            patch_limit_on_one_side=int(cfg.get("patch_limit_on_one_side", 512)),
            in_patch_limit_each_frame=int(frame_limit),
            in_patch_limit_video=cfg.get("in_patch_limit_video"),
            fixed_output_tokens=cfg.get("fixed_output_tokens"),
            sample_fps=float(cfg.get("sample_fps", 2.0)),
            temporal_merge_kernel_size=int(cfg.get("temporal_merge_kernel_size", 4)),
            image_mean=tuple(cfg.get("image_mean", (0.5, 0.5, 0.5))),
            image_std=tuple(cfg.get("image_std", (0.5, 0.5, 0.5))),
        )

    @classmethod
    def from_model_dir(cls, path: str | Path) -> MoonViTConfig:
        """Read `preprocessor_config.json` of a model folder (defaults when absent)."""
        import json

        file = Path(path) / "preprocessor_config.json"
        if not file.is_file():
            return cls()
        data = json.loads(file.read_text())
        return cls.from_dict(data.get("media_proc_cfg", data))


@dataclass(slots=True)
class MediaLimits:
    """Operator limits on client media; each field is a `serve` flag."""

    max_items: int = 16
    max_bytes: int = 32 * 1024 * 1024
    max_pixels: int = 64_000_000
    max_side: int = 16384
    max_video_seconds: float = 600.0
    max_video_frames: int = 1200
    fetch_timeout_s: float = 20.0
    max_redirects: int = 3
    allow_private: bool = False
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    video_codecs: frozenset[str] = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4"})
    media_dir: Path | None = None
    allow_http: bool = True

    def __post_init__(self) -> None:
        if self.max_items < 0 or self.max_bytes <= 0 or self.max_pixels <= 0:
            raise ValueError("media limits must be positive")
        if self.media_dir is not None:
            self.media_dir = Path(self.media_dir).resolve()
