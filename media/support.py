"""The request-path media step: fetch, check and inline a request's media parts."""

from __future__ import annotations

from dataclasses import dataclass

from media.config import MediaLimits, MoonViTConfig
from media.resolve import resolve_media
from tools.base import Json

_MEDIA_TYPES = frozenset({"image_url", "video_url", "input_audio", "file"})


@dataclass(slots=True)
class MediaSupport:
    """Fetches, checks and inlines a request's media parts (a 4xx naming the part on bad input)."""

    limits: MediaLimits
    cfg: MoonViTConfig

    async def prepare(self, messages: list[Json]) -> list[Json]:
        if not any(_has_media(m) for m in messages):
            return messages
        return await resolve_media(messages, self.limits, cfg=self.cfg)


def _has_media(message: Json) -> bool:
    content = message.get("content")
    return isinstance(content, list) and any(
        isinstance(p, dict) and p.get("type") in _MEDIA_TYPES for p in content
    )
