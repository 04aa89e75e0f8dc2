"""`resolve_media`: fetch, check and normalise every image/video part of a conversation.

Output parts are `data:` URLs of the validated original bytes (any vLLM accepts
them) carrying a content-hash `uuid`, so vLLM's processor cache recognises the same
media across sub-agents. Decoding runs in worker threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from media.cache import content_key
from media.config import MediaLimits, MoonViTConfig
from media.decode import decode_image
from media.errors import MediaError
from media.fetch import Fetched, HttpFetcher, fetch_url
from media.sniff import Kind, sniff
from media.store import VALID_IMAGES, video_chunks

_PART_KINDS = {"image_url": Kind.IMAGE, "video_url": Kind.VIDEO}
MIME = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "webp": "image/webp",
    "avif": "image/avif",
    "mp4": "video/mp4",
    "matroska": "video/webm",
    "avi": "video/x-msvideo",
}


def part_url(part: dict[str, Any]) -> str:
    """The URL of an `image_url`/`video_url` part (object or bare-string form)."""
    field = part.get(part["type"])
    url = field.get("url") if isinstance(field, dict) else field
    if not isinstance(url, str) or not url:
        raise MediaError(f"the {part['type']} part has no url", code="invalid_url")
    return url


async def resolve_media(
    messages: list[dict[str, Any]],
    limits: MediaLimits,
    *,
    cfg: MoonViTConfig | None = None,
    http: HttpFetcher | None = None,
) -> list[dict[str, Any]]:
    """Messages with every media part fetched, checked and inlined; `MediaError` names the part."""
    cfg = cfg or MoonViTConfig()
    out: list[dict[str, Any]] = []
    count = 0
    for i, message in enumerate(messages):
        content = message.get("content")
        if not isinstance(content, list):
            out.append(message)
            continue
        parts: list[Any] = []
        for j, part in enumerate(content):
            kind = _PART_KINDS.get(str(part.get("type"))) if isinstance(part, dict) else None
            if kind is None:
                parts.append(part)
                continue
            param = f"messages[{i}].content[{j}]"
            count += 1
            if count > limits.max_items:
                raise MediaError(
                    f"too many media items; the limit is {limits.max_items} per request",
                    param=param,
                    code="too_many_media",
                )
            try:
                parts.append(await resolve_part(part, kind, limits, cfg, http))
            except MediaError as exc:
                raise exc.at(param) from exc
        out.append({**message, "content": parts})
    return out


async def resolve_part(
    part: dict[str, Any],
    kind: Kind,
    limits: MediaLimits,
    cfg: MoonViTConfig,
    http: HttpFetcher | None,
) -> dict[str, Any]:
    """One part → an inlined, validated part of the same type."""
    fetched = await fetch_url(part_url(part), limits, http)
    fmt = _check_type(fetched, kind)
    if kind is Kind.IMAGE:
        key = content_key(fetched.data)
        checked = content_key(fetched.data, limits.max_pixels, limits.max_side)
        if VALID_IMAGES.get(checked) is None:
            await asyncio.to_thread(decode_image, fetched.data, limits)
            VALID_IMAGES.put(checked, True)
    else:
        key = content_key(fetched.data, cfg)
        await asyncio.to_thread(video_chunks, fetched.data, cfg, limits)
    url = (
        fetched.data_url
        if fetched.mime == MIME[fmt] and fetched.data_url
        else _data_url(MIME[fmt], fetched.data)
    )
    name = part["type"]
    return {"type": name, name: {"url": url}, "uuid": key}


def _check_type(fetched: Fetched, kind: Kind) -> str:
    """Magic bytes decide; a declared MIME of another major type is refused."""
    if not fetched.data:
        raise MediaError(f"the {kind.value} is empty (0 bytes)", code="empty_media")
    found = sniff(fetched.data)
    if found is None:
        raise MediaError(
            f"the {kind.value} is not a supported format: its leading bytes match none",
            code="unsupported_media_type",
        )
    fmt, actual = found
    if actual is not kind:
        raise MediaError(
            f"the {kind.value}_url part holds {actual.value} data ({fmt})", code="wrong_media_type"
        )
    declared = (fetched.mime or "").split(";")[0].strip().lower()
    if (
        declared
        and declared != "application/octet-stream"
        and not declared.startswith(kind.value + "/")
    ):
        raise MediaError(
            f"the media is declared as {declared!r} but is {fmt} {kind.value} data",
            code="wrong_media_type",
        )
    return fmt


def _data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
