"""Hostile media through the HTTP API: each gets a 400 naming the content part; nothing reaches the engine."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image

from media.config import MediaLimits, MoonViTConfig
from media.support import MediaSupport
from server.app import create_app
from server.context import AppContext, ServerSettings
from tests.server.fake_engine import ReplyEngine, serving


def _png(w: int = 32, h: int = 24) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 10, 10)).save(buf, "PNG")
    return buf.getvalue()


def _bomb_png() -> bytes:
    """A valid PNG whose header claims 60000x60000 pixels."""
    png = _png()
    chunk = b"IHDR" + struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    return png[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + png[33:]


def _url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _body(*urls: str, kind: str = "image_url") -> dict[str, object]:
    parts: list[dict[str, object]] = [{"type": "text", "text": "look"}]
    parts += [{"type": kind, kind: {"url": u}} for u in urls]
    return {"model": "fake", "messages": [{"role": "user", "content": parts}]}


@pytest.fixture
async def media_client(engine: ReplyEngine) -> AsyncIterator[httpx.AsyncClient]:
    ctx = AppContext(ServerSettings(served_name="fake"))
    ctx.media = MediaSupport(MediaLimits(max_items=2, max_bytes=2**20), MoonViTConfig())
    app = create_app(ctx, lambda: serving(engine))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


HOSTILE = [
    ("truncated", _body(_url(_png()[:60])), "corrupt"),
    ("zero size", _body("data:image/png;base64,"), "empty"),
    ("wrong magic", _body(_url(b"hello, I am text" * 4)), "not a supported format"),
    ("decompression bomb", _body(_url(_bomb_png())), "too large"),
    ("too many items", _body(_url(_png()), _url(_png()), _url(_png())), "too many media items"),
    ("oversized item", _body(_url(b"\x89PNG" + b"0" * (2**20 + 10))), "larger than"),
    ("bad scheme", _body("ftp://example.invalid/a.png"), "http(s)"),
    ("loopback url", _body("http://127.0.0.1:9/a.png"), "private"),
    ("image bytes as video", _body(_url(_png(), "video/mp4"), kind="video_url"), ""),
]


@pytest.mark.parametrize(("name", "body", "words"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_hostile_media_is_a_clean_400(
    media_client: httpx.AsyncClient, engine: ReplyEngine, name: str, body: dict[str, object],
    words: str,
) -> None:  # fmt: skip
    r = await media_client.post("/v1/chat/completions", json=body)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["param"] and err["param"].startswith("messages[0].content[")
    assert words.lower() in err["message"].lower()
    assert err["code"]
    assert engine.requests == []
    ok = await media_client.post("/v1/chat/completions", json=_body(_url(_png())))
    assert ok.status_code == 200  # the server keeps serving, and good media passes
    sent = engine.requests[-1].messages[0]["content"][1]
    assert sent["type"] == "image_url"
