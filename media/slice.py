"""Swarm attachments (docs/architecture.md, "Swarm"): `image:0`, `video:1@00:10-02:30` → a content part.

`slice_media(ref, messages)` looks the item up among the request's (already
resolved) media parts, counting images and videos separately, and returns a part
for a sub-agent's message. A video time range becomes a slice envelope
(`store.wrap_slice`) that our vLLM video loader decodes from the nearest key frame
before `start` to `end` only; the slice is decoded here once (off the event loop)
so the engine finds it cached.
"""

from __future__ import annotations

import asyncio
import base64
import re
from dataclasses import dataclass
from typing import Any

from media.cache import content_key
from media.config import MediaLimits, MoonViTConfig
from media.errors import MediaError
from media.fetch import decode_data_url
from media.resolve import part_url
from media.sniff import Kind
from media.store import SLICE_MIME, video_chunks, wrap_slice

_REF = re.compile(r"^(image|video):(\d+)(?:@([0-9:.]*)-([0-9:.]*))?$")
_PART_KIND = {"image_url": Kind.IMAGE, "video_url": Kind.VIDEO}


@dataclass(slots=True, frozen=True)
class MediaRef:
    kind: Kind
    index: int
    start: float = 0.0
    end: float | None = None

    @property
    def is_slice(self) -> bool:
        return self.start > 0 or self.end is not None


def parse_clock(text: str) -> float:
    """`ss`, `mm:ss` or `hh:mm:ss`, each optionally with `.fff` → seconds."""
    fields = text.split(":")
    if not 1 <= len(fields) <= 3 or not all(fields):
        raise ValueError(text)
    seconds = 0.0
    for value in fields:
        seconds = seconds * 60 + float(value)
    return seconds


def parse_ref(ref: str) -> MediaRef:
    """Parse `image:N` or `video:N[@start-end]` (either bound may be empty)."""
    match = _REF.match(ref.strip())
    if match is None:
        raise MediaError(
            f"bad media reference {ref!r}; use image:N or video:N@mm:ss-mm:ss",
            code="invalid_reference",
        )
    kind, index, start, end = match.groups()
    if kind == "image" and match.group(3) is not None:
        raise MediaError(
            f"bad media reference {ref!r}: images have no time range", code="invalid_reference"
        )
    try:
        lo = parse_clock(start) if start else 0.0
        hi = parse_clock(end) if end else None
    except ValueError as exc:
        raise MediaError(
            f"bad time range in media reference {ref!r}", code="invalid_reference"
        ) from exc
    if hi is not None and hi <= lo:
        raise MediaError(f"empty time range in media reference {ref!r}", code="invalid_reference")
    return MediaRef(Kind(kind), int(index), lo, hi)


def find_part(ref: MediaRef, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The `ref.index`-th part of `ref.kind` in message order."""
    seen = 0
    for message in messages:
        content = message.get("content")
        for part in content if isinstance(content, list) else ():
            if isinstance(part, dict) and _PART_KIND.get(str(part.get("type"))) is ref.kind:
                if seen == ref.index:
                    return part
                seen += 1
    raise MediaError(
        f"the request has no {ref.kind.value}:{ref.index} (it has {seen})", code="invalid_reference"
    )


async def slice_media(
    ref: str,
    messages: list[dict[str, Any]],
    *,
    cfg: MoonViTConfig | None = None,
    limits: MediaLimits | None = None,
) -> dict[str, Any]:
    """A content part for a sub-agent: the referenced image, video, or video slice."""
    parsed = parse_ref(ref)
    part = find_part(parsed, messages)
    if not parsed.is_slice:
        return part
    cfg = cfg or MoonViTConfig()
    limits = limits or MediaLimits()
    data = decode_data_url(part_url(part), limits).data
    await asyncio.to_thread(video_chunks, data, cfg, limits, parsed.start, parsed.end)
    blob = wrap_slice(data, parsed.start, parsed.end)
    url = f"data:{SLICE_MIME};base64," + base64.b64encode(blob).decode("ascii")
    return {
        "type": "video_url",
        "video_url": {"url": url},
        "uuid": content_key(data, parsed.start, parsed.end, cfg),
    }
