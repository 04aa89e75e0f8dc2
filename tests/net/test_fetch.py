"""`Fetcher` and `pinned_client` against a real server on 127.0.0.1 (allow-listed per test).

Names resolve through a stub resolver, and the transport under the pinning one fails the
test if asked to connect anywhere but 127.0.0.1, so no socket opens to any other address.
"""

from __future__ import annotations

import httpx
import pytest

from net import (
    AllowList,
    BadURL,
    Fetcher,
    Policy,
    Refused,
    SendFailed,
    TooManyRedirects,
    pinned_client,
    read_capped,
)
from tests.tools.conftest import LocalServer, Route


class LoopbackOnly(httpx.AsyncBaseTransport):
    """The real transport, but it fails the test if asked to connect anywhere but 127.0.0.1."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.url.host == "127.0.0.1", f"tried to connect to {request.url.host}"
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class StubResolver:
    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.table[host]


def fetcher(
    allow: tuple[str, ...], names: dict[str, list[str]] | None = None, max_redirects: int = 5
) -> tuple[Fetcher, LoopbackOnly, StubResolver]:
    transport, resolver = LoopbackOnly(), StubResolver(names or {})
    policy = Policy(AllowList.parse(allow), resolver)
    return Fetcher(policy, max_redirects, 5.0, transport), transport, resolver


async def body_of(fetch: Fetcher, url: str) -> bytes:
    async with fetch.open(url) as hop:
        body, _ = await read_capped(hop.response, 1_000_000)
        return body


async def test_redirect_to_a_private_address_is_refused_before_connecting(
    http_server: LocalServer,
) -> None:
    http_server.routes["/go"] = Route(302, headers={"Location": "http://intranet.example/admin"})
    fetch, transport, _ = fetcher(("127.0.0.1",), {"intranet.example": ["10.1.2.3"]})
    with pytest.raises(Refused) as err:
        await body_of(fetch, http_server.url("/go"))
    assert (err.value.host, err.value.address) == ("intranet.example", "10.1.2.3")
    assert [r.url.host for r in transport.requests] == ["127.0.0.1"]
    assert http_server.hits == ["/go"]


@pytest.mark.parametrize(
    "location",
    ["http://[::ffff:10.0.0.1]/x", "http://167772161/x", "http://0xa9.0xfe.0xa9.0xfe/latest"],
)
async def test_redirect_to_a_numeric_private_host_is_refused(
    http_server: LocalServer, location: str
) -> None:
    http_server.routes["/go"] = Route(302, headers={"Location": location})
    fetch, transport, resolver = fetcher(("127.0.0.1",))
    with pytest.raises(Refused):
        await body_of(fetch, http_server.url("/go"))
    assert len(transport.requests) == 1 and resolver.asked == []


async def test_the_allow_list_admits_a_numeric_spelling_pinned_to_the_address(
    http_server: LocalServer,
) -> None:
    http_server.routes["/go"] = Route(
        302, headers={"Location": f"http://0x7f.1:{http_server.port}/end"}
    )
    http_server.routes["/end"] = Route(body=b"arrived")
    fetch, transport, resolver = fetcher(("127.0.0.0/8",))
    assert await body_of(fetch, http_server.url("/go")) == b"arrived"
    assert [str(r.url) for r in transport.requests][1] == f"http://127.0.0.1:{http_server.port}/end"
    assert http_server.hits == ["/go", "/end"]
    assert http_server.host_headers[1] == f"0x7f.1:{http_server.port}"  # the name as written
    assert resolver.asked == []  # numeric hosts never reach DNS


async def test_named_host_connects_to_the_vetted_address_once_per_hop(
    http_server: LocalServer,
) -> None:
    http_server.routes["/a"] = Route(302, headers={"Location": "/b"})
    http_server.routes["/b"] = Route(302, headers={"Location": f"http://other.internal:{http_server.port}/c"})  # fmt: skip
    names = {"docs.internal": ["127.0.0.1"], "other.internal": ["127.0.0.1"]}
    fetch, _, resolver = fetcher(("docs.internal",), names)
    with pytest.raises(Refused) as err:
        await body_of(fetch, f"http://docs.internal:{http_server.port}/a")
    assert err.value.host == "other.internal"  # the allow-list names hosts, not their answers
    assert resolver.asked == ["docs.internal", "docs.internal", "other.internal"]
    assert http_server.hits == ["/a", "/b"]
    assert http_server.host_headers == [f"docs.internal:{http_server.port}"] * 2


async def test_redirect_limit(http_server: LocalServer) -> None:
    http_server.routes["/loop"] = Route(302, headers={"Location": "/loop"})
    fetch, _, _ = fetcher(("127.0.0.1",), max_redirects=2)
    with pytest.raises(TooManyRedirects, match="more than 2"):
        await body_of(fetch, http_server.url("/loop"))
    assert len(http_server.hits) == 3


async def test_the_final_hop_url_and_a_capped_body(http_server: LocalServer) -> None:
    http_server.routes["/r"] = Route(301, headers={"Location": "/big"})
    http_server.routes["/big"] = Route(body=b"x" * 50_000)
    fetch, _, _ = fetcher(("127.0.0.1",))
    async with fetch.open(http_server.url("/r")) as hop:
        assert hop.url == http_server.url("/big")
        body, more = await read_capped(hop.response, 1000)
    assert (len(body), more) == (1000, True)


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("ftp://example.com/x", "only absolute http"),
        ("/relative", "only absolute http"),
        ("http://[zz", "invalid URL"),
        ("http://a_b c/", "invalid URL"),
    ],
)
async def test_bad_urls(url: str, needle: str) -> None:
    fetch, transport, _ = fetcher(())
    with pytest.raises(BadURL, match=needle):
        await body_of(fetch, url)
    assert transport.requests == []


async def test_a_refused_connection_is_send_failed() -> None:
    fetch, _, _ = fetcher(("127.0.0.1",))
    with pytest.raises(SendFailed, match=r"could not fetch http://127\.0\.0\.1:9/"):
        await body_of(fetch, "http://127.0.0.1:9/")


async def test_pinned_client_vets_every_request(http_server: LocalServer) -> None:
    http_server.routes["/ok"] = Route(body=b"ok")
    transport = LoopbackOnly()
    policy = Policy(
        AllowList.parse(["api.internal"]), StubResolver({"api.internal": ["127.0.0.1"]})
    )
    async with pinned_client(policy, transport) as client:
        ok = await client.get(f"http://api.internal:{http_server.port}/ok")
        with pytest.raises(Refused):
            await client.get(http_server.url("/ok"))  # 127.0.0.1 itself is not allow-listed
    assert ok.text == "ok" and str(ok.url).startswith("http://api.internal:")
    assert transport.requests[0].headers["host"] == f"api.internal:{http_server.port}"
    assert len(transport.requests) == 1
