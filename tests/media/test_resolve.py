"""`resolve_media` on good and hostile inputs (no socket opens: resolver and transport are fakes)."""

from __future__ import annotations

import asyncio
import struct
import zlib
from pathlib import Path

import httpx
import pytest
from PIL import Image

from media.config import MediaLimits
from media.errors import MediaError
from media.fetch import HttpFetcher
from media.resolve import resolve_media
from tests.media.conftest import data_url, encode, gradient, make_clip

PNG = encode(Image.fromarray(gradient(64, 48)), "PNG")


def _user(*parts: dict) -> list[dict]:
    return [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "look"}, *parts]},
    ]


def _image(url: str) -> dict:
    return {"type": "image_url", "image_url": {"url": url}}


def _video(url: str) -> dict:
    return {"type": "video_url", "video_url": {"url": url}}


def _png_with_size(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims `width`x`height` (a decompression-bomb header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return PNG[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + PNG[33:]


class FakeResolver:
    def __init__(self, table: dict[str, str]) -> None:
        self.table = table

    async def __call__(self, host: str, port: int) -> list[str]:
        return [self.table[host]]


def _fetcher(limits: MediaLimits, handler, table: dict[str, str] | None = None) -> HttpFetcher:
    resolver = FakeResolver(table or {"img.example": "93.184.216.34"})
    return HttpFetcher(limits, resolver=resolver, transport=httpx.MockTransport(handler))


async def _refused(
    messages: list[dict], limits: MediaLimits | None = None, http: HttpFetcher | None = None
) -> MediaError:
    with pytest.raises(MediaError) as err:
        await resolve_media(messages, limits or MediaLimits(), http=http)
    return err.value


async def test_data_url_image_passes_through_with_a_content_uuid() -> None:
    url = data_url(PNG, "image/png")
    out = await resolve_media(_user(_image(url)), MediaLimits())
    part = out[1]["content"][1]
    assert part["image_url"]["url"] == url
    assert len(part["uuid"]) == 64
    assert out[0] == {"role": "system", "content": "be brief"}


async def test_video_is_validated_and_kept(clip: bytes) -> None:
    out = await resolve_media(_user(_video(data_url(clip, "video/mp4"))), MediaLimits())
    assert out[1]["content"][1]["video_url"]["url"].startswith("data:video/mp4;base64,")


@pytest.mark.parametrize(
    ("data", "mime", "code"),
    [
        (b"", "image/png", "empty_media"),
        (b"<html>not an image</html>", "image/png", "unsupported_media_type"),
        (PNG, "text/html", "wrong_media_type"),
        (PNG[: len(PNG) // 2], "image/png", "corrupt_media"),
        (encode(Image.fromarray(gradient(300, 300)), "JPEG")[:700], "image/jpeg", "corrupt_media"),
        (_png_with_size(100_000, 100_000), "image/png", "media_too_large"),
        (_png_with_size(0, 10), "image/png", "corrupt_media"),
    ],
)
async def test_hostile_images(data: bytes, mime: str, code: str) -> None:
    err = await _refused(_user(_image(data_url(data, mime))))
    assert (err.code, err.param) == (code, "messages[1].content[1]")


async def test_image_bytes_in_a_video_part(clip: bytes) -> None:
    err = await _refused(_user(_video(data_url(PNG, "video/mp4"))))
    assert err.code == "wrong_media_type"


async def test_video_limits_and_corruption(clip: bytes) -> None:
    err = await _refused(
        _user(_video(data_url(clip, "video/mp4"))), MediaLimits(max_video_seconds=1)
    )
    assert err.code == "media_too_long"
    broken = clip[:40] + bytes(2000)
    assert (await _refused(_user(_video(data_url(broken, "video/mp4"))))).code == "corrupt_media"


async def test_unsupported_codec_is_refused() -> None:
    mpeg2 = make_clip(1.0, codec="mpeg2video")
    err = await _refused(_user(_video(data_url(mpeg2, "video/mp4"))))
    assert (err.code, err.param) == ("unsupported_codec", "messages[1].content[1]")


async def test_too_many_items() -> None:
    url = data_url(PNG, "image/png")
    err = await _refused(_user(*[_image(url)] * 3), MediaLimits(max_items=2))
    assert (err.code, err.param) == ("too_many_media", "messages[1].content[3]")


async def test_non_base64_and_unknown_schemes() -> None:
    assert (await _refused(_user(_image("data:image/png,rawbytes")))).code == "invalid_url"
    assert (await _refused(_user(_image("ftp://x/y.png")))).code == "invalid_url"
    assert (await _refused(_user({"type": "image_url", "image_url": {}}))).code == "invalid_url"


async def test_oversized_data_url() -> None:
    err = await _refused(_user(_image(data_url(PNG, "image/png"))), MediaLimits(max_bytes=100))
    assert err.code == "media_too_large"


async def test_local_files_only_inside_the_media_dir(tmp_path: Path) -> None:
    inside = tmp_path / "media"
    inside.mkdir()
    (inside / "a.png").write_bytes(PNG)
    (tmp_path / "secret.png").write_bytes(PNG)
    limits = MediaLimits(media_dir=inside)
    out = await resolve_media(_user(_image((inside / "a.png").as_uri())), limits)
    assert out[1]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    escape = (inside / ".." / "secret.png").as_uri()
    assert (await _refused(_user(_image(escape)), limits)).code == "invalid_url"
    assert (await _refused(_user(_image((inside / "a.png").as_uri())))).code == "invalid_url"


async def test_http_fetch_pins_the_vetted_address() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=PNG, headers={"content-type": "image/png"})

    limits = MediaLimits()
    out = await resolve_media(
        _user(_image("https://img.example/cat.png")), limits, http=_fetcher(limits, handler)
    )
    assert out[1]["content"][1]["image_url"]["url"] == data_url(PNG, "image/png")
    assert seen[0].url.host == "93.184.216.34"
    assert seen[0].headers["host"] == "img.example"
    assert seen[0].extensions["sni_hostname"] == "img.example"


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "::ffff:192.168.0.1", "fd00::1"]
)
async def test_private_addresses_are_refused(address: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request may leave")

    limits = MediaLimits()
    http = _fetcher(limits, handler, {"img.example": address})
    err = await _refused(_user(_image("http://img.example/a.png")), limits, http)
    assert err.code == "forbidden_address"


async def test_allow_list_and_allow_private() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=PNG)

    for limits in (
        MediaLimits(allowed_hosts=frozenset({"img.example"})),
        MediaLimits(allow_private=True),
    ):
        http = _fetcher(limits, handler, {"img.example": "10.0.0.7"})
        await resolve_media(_user(_image("http://img.example/a.png")), limits, http=http)


async def test_redirect_to_a_private_host_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "http://internal.example/x.png"})

    limits = MediaLimits()
    http = _fetcher(
        limits, handler, {"img.example": "93.184.216.34", "internal.example": "192.168.1.1"}
    )
    assert (
        await _refused(_user(_image("http://img.example/a.png")), limits, http)
    ).code == "forbidden_address"


async def test_redirect_loops_and_http_errors() -> None:
    def loop(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"location": "/again"})

    def missing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404)

    limits = MediaLimits(max_redirects=2)
    assert (
        await _refused(_user(_image("http://img.example/a")), limits, _fetcher(limits, loop))
    ).code == "too_many_redirects"
    assert (
        await _refused(_user(_image("http://img.example/a")), limits, _fetcher(limits, missing))
    ).code == "fetch_failed"


async def test_size_limit_while_streaming_and_by_header() -> None:
    def big(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=PNG * 10)

    limits = MediaLimits(max_bytes=len(PNG) * 2)
    assert (
        await _refused(_user(_image("http://img.example/a")), limits, _fetcher(limits, big))
    ).code == "media_too_large"


async def test_slow_server_times_out() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, content=PNG)

    limits = MediaLimits(fetch_timeout_s=0.05)
    assert (
        await _refused(_user(_image("http://img.example/a")), limits, _fetcher(limits, slow))
    ).code == "fetch_timeout"


@pytest.mark.parametrize(
    ("url", "answer"),
    [
        ("http://2130706433/a.png", None),  # 127.0.0.1 in decimal: never sent to DNS
        ("http://0x7f.1/a.png", None),
        ("http://127.1/a.png", None),
        ("http://[::ffff:a9fe:a9fe]/a.png", None),  # mapped 169.254.169.254
        ("http://img.example/a.png", "100.64.0.1"),  # shared address space (CGNAT)
        ("http://img.example/a.png", "64:ff9b::a00:1"),  # NAT64 of 10.0.0.1
        ("http://img.example/a.png", "2002:c0a8:101::1"),  # 6to4 of 192.168.1.1
        ("http://img.example/a.png", "240.0.0.1"),  # reserved
        ("http://img.example/a.png", "::"),  # unspecified
    ],
)
async def test_every_spelling_of_a_private_address_is_refused(url: str, answer: str | None) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request may leave")

    limits = MediaLimits()
    http = _fetcher(limits, handler, {"img.example": answer} if answer else {})
    err = await _refused(_user(_image(url)), limits, http)
    assert (err.code, err.param) == ("forbidden_address", "messages[1].content[1]")


async def test_allow_host_also_takes_networks() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=PNG)

    limits = MediaLimits(allowed_hosts=frozenset({"10.0.0.0/8"}))
    http = _fetcher(limits, handler, {"img.example": "10.0.0.7"})
    await resolve_media(_user(_image("http://img.example/a.png")), limits, http=http)
    other = _fetcher(limits, handler, {"img.example": "192.168.0.7"})
    err = await _refused(_user(_image("http://img.example/a.png")), limits, other)
    assert err.code == "forbidden_address"
