"""Images and video in: fetching, checking, MoonViT-3D preprocessing, swarm slices (docs/architecture.md)."""

from media.config import MediaLimits, MoonViTConfig
from media.errors import MediaError
from media.moonvit import MoonViTProcessor, Patches
from media.resolve import resolve_media
from media.slice import parse_ref, slice_media

__all__ = [
    "MediaError",
    "MediaLimits",
    "MoonViTConfig",
    "MoonViTProcessor",
    "Patches",
    "parse_ref",
    "resolve_media",
    "slice_media",
]
