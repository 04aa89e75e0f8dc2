"""fetch_url against a real server on 127.0.0.1 (allowed by a test-only allow-list).

Private-address cases use a stub resolver and a transport that refuses anything but
127.0.0.1, so no test can open a socket to any other address.
"""

from __future__ import annotations

import httpx
import pytest

from net import AllowList, Policy
from tests.tools.conftest import ARTICLE, PDF, LocalServer, Route
from tools.base import ToolContext, ToolRegistry
from tools.fetch_url import FetchLimits, FetchUrlTool


class LoopbackOnly(httpx.AsyncBaseTransport):
    """The real transport, but it fails the test if asked to connect anywhere but 127.0.0.1."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.hosts: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        assert request.url.host == "127.0.0.1", f"tried to connect to {request.url.host}"
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def stub_resolver(table: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        return table[host]

    return resolve


def make(
    resolver: dict[str, list[str]] | None = None, allow: tuple[str, ...] = ("127.0.0.1",), **limits
) -> tuple[ToolRegistry, LoopbackOnly]:
    transport = LoopbackOnly()
    policy = Policy(AllowList.parse(allow), stub_resolver(resolver or {}))
    tool = FetchUrlTool(policy, FetchLimits(**limits), transport)
    return ToolRegistry([tool]), transport


CTX = ToolContext()


async def test_html_page_becomes_clean_text(http_server: LocalServer) -> None:
    http_server.routes["/otters"] = Route(body=ARTICLE.encode(), content_type="text/html")
    reg, _ = make()
    result = await reg.invoke("fetch_url", {"url": http_server.url("/otters")}, CTX)
    assert not result.is_error, result.text
    assert "Title: Otters" in result.text
    assert "rocks as tools" in result.text
    assert "<p>" not in result.text and "Home | About" not in result.text


async def test_pdf_and_plain_text(http_server: LocalServer) -> None:
    http_server.routes["/a.pdf"] = Route(body=PDF, content_type="application/pdf")
    http_server.routes["/t"] = Route(body="héllo plain".encode())
    reg, _ = make()
    pdf = await reg.invoke("fetch_url", {"url": http_server.url("/a.pdf")}, CTX)
    txt = await reg.invoke("fetch_url", {"url": http_server.url("/t")}, CTX)
    assert "Hello PDF world" in pdf.text
    assert "héllo plain" in txt.text


async def test_max_chars_truncates(http_server: LocalServer) -> None:
    http_server.routes["/long"] = Route(body=("word " * 5000).encode())
    reg, _ = make()
    result = await reg.invoke("fetch_url", {"url": http_server.url("/long"), "max_chars": 100}, CTX)
    body = result.text.split("\n\n", 1)[1]
    assert body.startswith("word word")
    assert "[truncated: 100 of" in body
    assert len(body.split("\n\n[truncated")[0]) == 100


async def test_huge_page_stops_at_byte_limit(http_server: LocalServer) -> None:
    http_server.routes["/huge"] = Route(body=b"x" * 3_000_000)
    reg, _ = make(max_bytes=10_000)
    result = await reg.invoke("fetch_url", {"url": http_server.url("/huge")}, CTX)
    assert not result.is_error
    assert "larger than the download limit" in result.text
    assert "[truncated: 20000 of" not in result.text  # only 10 kB were read
    assert result.text.count("x") <= 10_000


async def test_follows_redirects_on_allowed_host(http_server: LocalServer) -> None:
    http_server.routes["/r1"] = Route(302, headers={"Location": "/r2"})
    http_server.routes["/r2"] = Route(301, headers={"Location": http_server.url("/end")})
    http_server.routes["/end"] = Route(body=b"arrived")
    reg, _ = make()
    result = await reg.invoke("fetch_url", {"url": http_server.url("/r1")}, CTX)
    assert "arrived" in result.text
    assert http_server.hits == ["/r1", "/r2", "/end"]


async def test_redirect_to_private_address_is_refused_before_connecting(
    http_server: LocalServer,
) -> None:
    http_server.routes["/go"] = Route(302, headers={"Location": "http://intranet.example/admin"})
    reg, transport = make({"intranet.example": ["10.1.2.3"]})
    result = await reg.invoke("fetch_url", {"url": http_server.url("/go")}, CTX)
    assert result.is_error
    assert "non-public address 10.1.2.3" in result.text
    assert transport.hosts == ["127.0.0.1"]  # the second hop never opened a socket


@pytest.mark.parametrize(
    ("url", "answers"),
    [
        ("http://127.0.0.1:9/", None),  # loopback literal, not allow-listed here
        ("http://[::1]/", None),
        ("http://169.254.169.254/latest/meta-data", None),  # cloud metadata (link-local)
        ("http://rebind.example/", ["93.184.215.14", "192.168.0.10"]),  # one private answer
        ("http://mapped.example/", ["::ffff:10.0.0.1"]),
        ("http://multi.example/", ["224.0.0.1"]),
        ("http://zero.example/", ["0.0.0.0"]),
    ],
)
async def test_private_destinations_are_refused(url: str, answers: list[str] | None) -> None:
    host = httpx.URL(url).host
    reg, transport = make({host: answers or []}, allow=())
    result = await reg.invoke("fetch_url", {"url": url}, CTX)
    assert result.is_error and "refusing" in result.text
    assert transport.hosts == []


async def test_context_allow_list_admits_loopback(http_server: LocalServer) -> None:
    http_server.routes["/ok"] = Route(body=b"fine")
    reg, _ = make(allow=())
    denied = await reg.invoke("fetch_url", {"url": http_server.url("/ok")}, CTX)
    allowed = await reg.invoke(
        "fetch_url",
        {"url": http_server.url("/ok")},
        ToolContext(allow_hosts=frozenset({"127.0.0.0/8"})),
    )
    assert denied.is_error and not allowed.is_error
    assert "fine" in allowed.text


async def test_hostname_connects_to_the_vetted_address(http_server: LocalServer) -> None:
    http_server.routes["/named"] = Route(body=b"by name")
    reg, transport = make({"docs.internal": ["127.0.0.1"]}, allow=("docs.internal",))
    url = f"http://docs.internal:{http_server.port}/named"
    result = await reg.invoke("fetch_url", {"url": url}, CTX)
    assert "by name" in result.text and transport.hosts == ["127.0.0.1"]


async def test_too_many_redirects(http_server: LocalServer) -> None:
    http_server.routes["/loop"] = Route(302, headers={"Location": "/loop"})
    reg, _ = make(max_redirects=3)
    result = await reg.invoke("fetch_url", {"url": http_server.url("/loop")}, CTX)
    assert result.is_error and "too many redirects" in result.text
    assert len(http_server.hits) == 4


async def test_http_errors_and_unsupported_types(http_server: LocalServer) -> None:
    http_server.routes["/img"] = Route(body=b"\x89PNG....", content_type="image/png")
    reg, _ = make()
    missing = await reg.invoke("fetch_url", {"url": http_server.url("/missing")}, CTX)
    image = await reg.invoke("fetch_url", {"url": http_server.url("/img")}, CTX)
    assert missing.is_error and "HTTP 404" in missing.text
    assert image.is_error and "image/png" in image.text


async def test_slow_server_times_out(http_server: LocalServer) -> None:
    http_server.routes["/slow"] = Route(body=b"late", delay_s=3.0)
    reg, _ = make(timeout_s=0.5)
    result = await reg.invoke("fetch_url", {"url": http_server.url("/slow")}, CTX)
    assert result.is_error and "timed out" in result.text


async def test_refused_connection_is_a_result() -> None:
    reg, _ = make()
    result = await reg.invoke("fetch_url", {"url": "http://127.0.0.1:9/"}, CTX)
    assert result.is_error and "could not fetch" in result.text


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({}, "'url' is required"),
        ({"url": "ftp://example.com/x"}, "only absolute http"),
        ({"url": "/relative"}, "only absolute http"),
        ({"url": "http://"}, "only absolute http"),
        ({"url": "http://[zz"}, "invalid URL"),
        ({"url": "http://a b/"}, "invalid URL"),
        ({"url": "http://x.test", "max_chars": 5}, "between 100"),
        ({"url": "http://x.test", "max_chars": "many"}, "must be an integer"),
    ],
)
async def test_bad_arguments(args: dict, needle: str) -> None:
    reg, transport = make()
    result = await reg.invoke("fetch_url", args, CTX)
    assert result.is_error and needle in result.text
    assert transport.hosts == []
