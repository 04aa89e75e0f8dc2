"""Images and video in: fetching, checking, MoonViT-3D preprocessing, swarm slices (DESIGN §7, §9)."""

from server.media.config import MediaLimits, MoonViTConfig
from server.media.errors import MediaError
from server.media.moonvit import MoonViTProcessor, Patches
from server.media.resolve import resolve_media
from server.media.slice import parse_ref, slice_media

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
