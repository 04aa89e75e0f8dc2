"""`serve` flags for client media, and the step that resolves media parts before the engine."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from server.media.config import MediaLimits, MoonViTConfig
from server.media.resolve import resolve_media
from swarm.engine import Json

_D = MediaLimits()
_MEDIA_TYPES = frozenset({"image_url", "video_url", "input_audio", "file"})


def add_media_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("client media (images and video)")
    g.add_argument(
        "--media-max-items",
        type=int,
        default=_D.max_items,
        help=f"media parts per request (default {_D.max_items}).",
    )
    g.add_argument(
        "--media-max-mb",
        type=float,
        default=_D.max_bytes / 2**20,
        help=f"largest media item in MiB (default {_D.max_bytes // 2**20}).",
    )
    g.add_argument(
        "--media-max-pixels",
        type=int,
        default=_D.max_pixels,
        help=f"largest decoded image or frame in pixels (default {_D.max_pixels}).",
    )
    g.add_argument(
        "--media-max-side",
        type=int,
        default=_D.max_side,
        help=f"longest image side in pixels (default {_D.max_side}).",
    )
    g.add_argument(
        "--media-max-video-seconds",
        type=float,
        default=_D.max_video_seconds,
        help=f"longest video (default {_D.max_video_seconds:g} s).",
    )
    g.add_argument(
        "--media-max-video-frames",
        type=int,
        default=_D.max_video_frames,
        help=f"most sampled frames per video (default {_D.max_video_frames}).",
    )
    g.add_argument(
        "--media-fetch-timeout-s",
        type=float,
        default=_D.fetch_timeout_s,
        help=f"time limit to fetch one http(s) media URL (default {_D.fetch_timeout_s:g}).",
    )
    g.add_argument(
        "--media-max-redirects",
        type=int,
        default=_D.max_redirects,
        help=f"redirects followed per media URL (default {_D.max_redirects}).",
    )
    g.add_argument(
        "--media-allow-private",
        action="store_true",
        help="Let media URLs reach private and loopback addresses.",
    )
    g.add_argument(
        "--media-allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="A host media URLs may reach even if private (repeatable).",
    )
    g.add_argument(
        "--media-dir",
        type=Path,
        default=None,
        help="Folder whose files clients may reference as file:// media (off by default).",
    )
    g.add_argument("--no-media-http", action="store_true",
                   help="Refuse http(s) media URLs (data: URLs only).")  # fmt: skip


def limits_from_args(args: argparse.Namespace) -> MediaLimits:
    return MediaLimits(
        max_items=args.media_max_items,
        max_bytes=int(args.media_max_mb * 2**20),
        max_pixels=args.media_max_pixels,
        max_side=args.media_max_side,
        max_video_seconds=args.media_max_video_seconds,
        max_video_frames=args.media_max_video_frames,
        fetch_timeout_s=args.media_fetch_timeout_s,
        max_redirects=args.media_max_redirects,
        allow_private=args.media_allow_private,
        allowed_hosts=frozenset(args.media_allow_host),
        media_dir=args.media_dir,
        allow_http=not args.no_media_http,
    )


@dataclass(slots=True)
class MediaSupport:
    """Fetches, checks and inlines a request's media parts (a 4xx naming the part on bad input)."""

    limits: MediaLimits
    cfg: MoonViTConfig

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> MediaSupport:
        model = Path(str(args.model))
        cfg = MoonViTConfig.from_model_dir(model) if model.is_dir() else MoonViTConfig()
        return cls(limits_from_args(args), cfg)

    async def prepare(self, messages: list[Json]) -> list[Json]:
        if not any(_has_media(m) for m in messages):
            return messages
        return await resolve_media(messages, self.limits, cfg=self.cfg)


def _has_media(message: Json) -> bool:
    content = message.get("content")
    return isinstance(content, list) and any(
        isinstance(p, dict) and p.get("type") in _MEDIA_TYPES for p in content
    )
