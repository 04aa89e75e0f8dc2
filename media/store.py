"""Process-wide caches keyed by content hash, shared by `resolve_media`, `slice_media`
and the in-engine video loader, so media sent to many sub-agents is decoded once.

A slice of a video travels as an *envelope*: a small header naming the time range,
followed by the original bytes, so the engine decodes only that range.
"""

from __future__ import annotations

import json

from media.cache import LruCache, content_key
from media.config import MediaLimits, MoonViTConfig
from media.video import VideoChunk, check_range, decode_chunks

SLICE_MIME = "video/x-kimi-slice"
_MAGIC = b"KIMI-SLICE/1\n"

# Decoded, sampled, resized video chunks: the heavy part of video preprocessing.
CHUNKS: LruCache[list[VideoChunk]] = LruCache(
    1 << 30, lambda chunks: sum(f.nbytes for c in chunks for f in c.frames)
)
# The media config of the Kimi model this process serves (set when vLLM builds our
# processor); the in-engine video loader sizes frames with it.
ENGINE_CFG: list[MoonViTConfig] = []
# Content hashes of images that decoded cleanly under some limits.
VALID_IMAGES: LruCache[bool] = LruCache(1 << 20, lambda _: 64)


def video_chunks(
    data: bytes,
    cfg: MoonViTConfig,
    limits: MediaLimits,
    start: float = 0.0,
    end: float | None = None,
) -> list[VideoChunk]:
    """Chunks of `data[start:end]` under `cfg`: limits checked every call, decoded once per content."""
    info, times = check_range(data, cfg, limits, start, end)
    key = content_key(data, start, end, cfg)
    return CHUNKS.get_or_make(key, lambda: decode_chunks(data, info, times, cfg))


def wrap_slice(data: bytes, start: float, end: float | None) -> bytes:
    """Envelope: magic, one JSON line `{"start", "end"}`, then the original bytes."""
    return _MAGIC + json.dumps({"start": start, "end": end}).encode() + b"\n" + data


def unwrap_slice(blob: bytes) -> tuple[bytes, float, float | None]:
    """Inverse of `wrap_slice`; plain video bytes come back as the whole range."""
    if not blob.startswith(_MAGIC):
        return blob, 0.0, None
    header, _, data = blob[len(_MAGIC) :].partition(b"\n")
    spec = json.loads(header)
    end = spec.get("end")
    return data, float(spec["start"]), None if end is None else float(end)
