"""Swarm attachment references → content parts."""

from __future__ import annotations

import pytest

from media.config import MediaLimits
from media.errors import MediaError
from media.fetch import decode_data_url
from media.resolve import resolve_media
from media.slice import parse_ref, slice_media
from media.sniff import Kind
from media.store import unwrap_slice
from tests.media.conftest import data_url, encode, gradient


def test_parse_refs() -> None:
    assert parse_ref("image:0").kind is Kind.IMAGE
    ref = parse_ref("video:1@00:10-02:30")
    assert (ref.kind, ref.index, ref.start, ref.end) == (Kind.VIDEO, 1, 10.0, 150.0)
    assert parse_ref("video:0@1:00:00.5-").start == 3600.5
    assert parse_ref("video:0@-12").end == 12.0
    for bad in ("image:0@1-2", "video:x", "video:0@5-2", "audio:0", "video:0@1:2:3:4-"):
        with pytest.raises(MediaError):
            parse_ref(bad)


async def test_slice_media_picks_items_by_kind_and_slices_video(clip: bytes) -> None:
    png = encode(__import__("PIL.Image", fromlist=["Image"]).fromarray(gradient(40, 30)), "PNG")
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": data_url(png, "image/png")}},
                {"type": "video_url", "video_url": {"url": data_url(clip, "video/mp4")}},
                {"type": "image_url", "image_url": {"url": data_url(png, "image/png")}},
            ],
        },
    ]
    resolved = await resolve_media(messages, MediaLimits())
    assert await slice_media("image:1", resolved) is resolved[0]["content"][2]
    assert await slice_media("video:0", resolved) is resolved[0]["content"][1]
    part = await slice_media("video:0@00:01-00:02", resolved)
    blob = decode_data_url(part["video_url"]["url"], MediaLimits(max_bytes=1 << 30)).data
    assert unwrap_slice(blob) == (clip, 1.0, 2.0)
    with pytest.raises(MediaError, match="has no video:1"):
        await slice_media("video:1", resolved)
