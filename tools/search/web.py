"""Search back-ends over httpx: a SearXNG instance (JSON API) and the Brave Search API.

Their client is `search_client`: the outbound-address policy (`net`) vets and pins every
request. The SearXNG URL comes from the operator (`--searxng-url`), so its host is
allow-listed: a SearXNG on localhost or the intranet is the usual set-up. Brave's API
host is not, and must resolve to public addresses only. Redirects are not followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from net import AllowList, BadURL, NetError, Policy, host_of, parse_target, pinned_client
from tools.base import ToolError
from tools.search.base import SearchHit

BRAVE_URL = "https://api.search.brave.com/res/v1/web/search"


def search_client(endpoint: str | None, timeout_s: float = 15.0) -> httpx.AsyncClient:
    """A pinned client that may also reach the operator-configured `endpoint`'s host."""
    try:
        hosts = [host_of(parse_target(endpoint))] if endpoint else []
    except BadURL:
        hosts = []  # each search then reports the bad URL as a tool error
    return pinned_client(Policy(AllowList.parse(hosts)), timeout=timeout_s)


async def _get_json(client: httpx.AsyncClient, url: str, **kwargs: Any) -> Any:
    """GET `url` and decode JSON; every failure becomes a `ToolError` the model can read."""
    try:
        resp = await client.get(url, **kwargs)
    except httpx.TimeoutException as exc:
        raise ToolError("the search provider timed out; try again later") from exc
    except httpx.HTTPError as exc:
        raise ToolError(f"the search provider is unreachable ({type(exc).__name__})") from exc
    except NetError as exc:
        raise ToolError(f"the search provider is unreachable ({exc})") from exc
    if resp.status_code == 429:
        raise ToolError("the search provider is rate limiting (HTTP 429); try again later")
    if resp.status_code >= 400:
        raise ToolError(f"the search provider answered HTTP {resp.status_code}")
    try:
        return resp.json()
    except ValueError as exc:
        raise ToolError("the search provider sent a response that is not JSON") from exc


def _hits(items: Any, title: str, url: str, text: str, k: int) -> list[SearchHit]:
    if not isinstance(items, list):
        raise ToolError("the search provider sent an unexpected response shape")
    hits = [
        SearchHit(str(it.get(title) or ""), str(it[url]), str(it.get(text) or ""))
        for it in items
        if isinstance(it, dict) and it.get(url)
    ]
    return hits[:k]


@dataclass(slots=True)
class SearxngProvider:
    """A SearXNG instance with `format=json` enabled (`search.formats` in its settings)."""

    base_url: str
    client: httpx.AsyncClient
    name: str = "searxng"

    async def search(self, query: str, k: int) -> list[SearchHit]:
        url = self.base_url.rstrip("/") + "/search"
        data = await _get_json(self.client, url, params={"q": query, "format": "json"})
        items = data.get("results") if isinstance(data, dict) else None
        return _hits(items, "title", "url", "content", k)


@dataclass(slots=True)
class BraveProvider:
    """The Brave Search web API (key from the operator)."""

    api_key: str
    client: httpx.AsyncClient
    url: str = BRAVE_URL
    name: str = "brave"

    async def search(self, query: str, k: int) -> list[SearchHit]:
        headers = {"X-Subscription-Token": self.api_key, "Accept": "application/json"}
        params: dict[str, str | int] = {"q": query, "count": min(k, 20)}
        data = await _get_json(self.client, self.url, params=params, headers=headers)
        web = data.get("web") if isinstance(data, dict) else None
        items = web.get("results", []) if isinstance(web, dict) else []
        return _hits(items, "title", "url", "description", k)
