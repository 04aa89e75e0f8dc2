"""Tiny Kimi K2.5 through `kimi-swarm serve`: media token counts in `usage.prompt_tokens`.

Differences between two requests that differ only in media size cancel the text
tokens, so the expected difference comes from our NaViT plan alone.
"""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image

from media.config import MoonViTConfig
from media.moonvit import MoonViTProcessor
from tests.media.conftest import data_url, encode, gradient, make_clip

pytestmark = pytest.mark.engine

# Tiny Kimi's media_proc_cfg (tests/models.py::build_tiny_kimi).
TINY = MoonViTConfig(in_patch_limit=256, patch_limit_on_one_side=64, in_patch_limit_each_frame=256)


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Any:
    try:
        return request.getfixturevalue("kimi_server")
    except pytest.FixtureLookupError:
        pytest.skip("needs the `kimi_server` fixture from tests/conftest.py")


async def _prompt_tokens(server: Any, part: dict[str, Any]) -> int:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=server.base_url, api_key="test")
    reply = await client.chat.completions.create(
        model="kimi-tiny",
        messages=[{"role": "user", "content": [{"type": "text", "text": "describe"}, part]}],  # type: ignore[misc, list-item]
        max_tokens=2,
    )
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage is not None
    return reply.usage.prompt_tokens


async def test_image_tokens(server: Any) -> None:
    ours = MoonViTProcessor(TINY)
    small, large = Image.fromarray(gradient(28, 28)), Image.fromarray(gradient(1000, 700))
    counts = [
        await _prompt_tokens(
            server,
            {"type": "image_url", "image_url": {"url": data_url(encode(im, "PNG"), "image/png")}},
        )
        for im in (small, large)
    ]
    assert counts[1] - counts[0] == ours.num_tokens(large) - ours.num_tokens(small)


async def test_video_tokens(server: Any) -> None:
    ours = MoonViTProcessor(TINY)
    sizes = [(160, 96), (320, 192)]
    counts = [
        await _prompt_tokens(
            server,
            {
                "type": "video_url",
                "video_url": {"url": data_url(make_clip(3.0, width=w, height=h), "video/mp4")},
            },
        )
        for w, h in sizes
    ]
    chunks = 2  # 3 s at 2 fps = 6 frames = chunks of 4 + 2, same timestamps for both clips
    per_chunk = [ours.num_tokens([gradient(w, h)] * 4) for w, h in sizes]
    assert counts[1] - counts[0] == chunks * (per_chunk[1] - per_chunk[0])
