"""`serve` flags for client media (a table) and the `MediaSupport` they configure."""

from __future__ import annotations

import argparse
from pathlib import Path

from media.config import MediaLimits, MoonViTConfig
from media.support import MediaSupport
from server.boot.flags import Flag, add_flags

_D = MediaLimits()

FLAGS = (
    Flag("--media-max-items", f"media parts per request (default {_D.max_items}).", int,
         _D.max_items),
    Flag("--media-max-mb", f"largest media item in MiB (default {_D.max_bytes // 2**20}).",
         float, _D.max_bytes / 2**20),
    Flag("--media-max-pixels", f"largest decoded image or frame in pixels (default "
         f"{_D.max_pixels}).", int, _D.max_pixels),
    Flag("--media-max-side", f"longest image side in pixels (default {_D.max_side}).", int,
         _D.max_side),
    Flag("--media-max-video-seconds", f"longest video (default {_D.max_video_seconds:g} s).",
         float, _D.max_video_seconds),
    Flag("--media-max-video-frames", f"most sampled frames per video (default "
         f"{_D.max_video_frames}).", int, _D.max_video_frames),
    Flag("--media-fetch-timeout-s", f"time limit to fetch one http(s) media URL (default "
         f"{_D.fetch_timeout_s:g}).", float, _D.fetch_timeout_s),
    Flag("--media-max-redirects", f"redirects followed per media URL (default "
         f"{_D.max_redirects}).", int, _D.max_redirects),
    Flag("--media-allow-private", "Let media URLs reach private and loopback addresses.",
         action="store_true"),
    Flag("--media-allow-host", "Host, address or network media URLs may reach even if private "
         "(repeatable).", action="append", metavar="HOST"),
    Flag("--media-dir", "Folder whose files clients may reference as file:// media (off by "
         "default).", Path),
    Flag("--no-media-http", "Refuse http(s) media URLs (data: URLs only).", action="store_true"),
)  # fmt: skip


def add_media_args(parser: argparse.ArgumentParser) -> None:
    add_flags(parser, "client media (images and video)", FLAGS)


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


def media_support_from_args(args: argparse.Namespace) -> MediaSupport:
    """Limits from the flags; MoonViT geometry from the model folder when it has one."""
    model = Path(str(args.model))
    cfg = MoonViTConfig.from_model_dir(model) if model.is_dir() else MoonViTConfig()
    return MediaSupport(limits_from_args(args), cfg)
