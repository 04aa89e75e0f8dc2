"""SearXNG and Brave providers through `httpx.MockTransport`, and their address policy
against a real server on 127.0.0.1 (no other network)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from tests.tools.conftest import LocalServer, Route
from tools.base import ToolContext, ToolRegistry
from tools.config import SearchBackend, ToolsConfig
from tools.registry_factory import make_search_provider
from tools.search.web import BRAVE_URL, BraveProvider, SearxngProvider, search_client
from tools.web_search import WebSearchTool

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_searxng_query_and_results() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        results = [
            {"title": "Kelp", "url": "https://e.org/kelp", "content": "Kelp grows."},
            {"title": "No URL"},
            {"title": "Otter", "url": "https://e.org/otter", "content": None},
        ]
        return httpx.Response(200, json={"results": results})

    async with client(handler) as c:
        hits = await SearxngProvider("http://searx.local:8080/", c).search("kelp forest", 5)
    assert [h.url for h in hits] == ["https://e.org/kelp", "https://e.org/otter"]
    assert hits[1].snippet == ""
    assert seen[0].url.path == "/search"
    assert dict(seen[0].url.params) == {"q": "kelp forest", "format": "json"}


async def test_brave_sends_key_and_parses() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["X-Subscription-Token"] == "k-123"
        assert str(request.url).startswith(BRAVE_URL)
        assert request.url.params["count"] == "3"
        items = [
            {"title": f"T{i}", "url": f"https://e.org/{i}", "description": "d"} for i in range(5)
        ]
        return httpx.Response(200, json={"web": {"results": items}})

    async with client(handler) as c:
        hits = await BraveProvider("k-123", c).search("q", 3)
    assert [h.title for h in hits] == ["T0", "T1", "T2"]


def _raise(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.parametrize(
    ("handler", "needle"),
    [
        (lambda r: httpx.Response(500, text="oops"), "HTTP 500"),
        (lambda r: httpx.Response(429), "rate limiting"),
        (lambda r: httpx.Response(200, text="<html>not json"), "not JSON"),
        (lambda r: httpx.Response(200, content=json.dumps({"results": "bad"})), "unexpected"),
        (_raise(httpx.ReadTimeout("slow")), "timed out"),
        (_raise(httpx.ConnectError("refused")), "unreachable"),
    ],
)
async def test_provider_faults_become_error_results(handler: Handler, needle: str) -> None:
    async with client(handler) as c:
        reg = ToolRegistry([WebSearchTool(SearxngProvider("http://searx.local", c))])
        result = await reg.invoke("web_search", {"query": "x"}, ToolContext())
    assert result.is_error and needle in result.text


async def test_brave_without_web_section_is_no_results() -> None:
    async with client(lambda r: httpx.Response(200, json={"query": {}})) as c:
        reg = ToolRegistry([WebSearchTool(BraveProvider("k", c))])
        result = await reg.invoke("web_search", {"query": "nothing"}, ToolContext())
    assert not result.is_error and result.text.startswith("No results")


async def test_operator_configured_searxng_on_loopback_is_allowed(http_server: LocalServer) -> None:
    results = {"results": [{"title": "Kelp", "url": "https://e.org/kelp", "content": "grows"}]}
    http_server.routes["/search?q=kelp&format=json"] = Route(
        body=json.dumps(results).encode(), content_type="application/json"
    )
    config = ToolsConfig(search_backend=SearchBackend.SEARXNG, searxng_url=http_server.url("/"))
    provider = make_search_provider(config)
    assert isinstance(provider, SearxngProvider)
    async with provider.client:
        hits = await provider.search("kelp", 3)
    assert [h.url for h in hits] == ["https://e.org/kelp"]


async def test_other_search_hosts_must_be_public(http_server: LocalServer) -> None:
    """Brave's endpoint is not operator-configured: a private answer is refused unconnected."""
    http_server.routes["/brave"] = Route(body=b"{}", content_type="application/json")
    async with search_client(None) as c:
        reg = ToolRegistry([WebSearchTool(BraveProvider("k", c, url=http_server.url("/brave")))])
        result = await reg.invoke("web_search", {"query": "x"}, ToolContext())
    assert result.is_error and "refusing to connect to '127.0.0.1'" in result.text
    assert http_server.hits == []
