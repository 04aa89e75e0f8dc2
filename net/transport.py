"""Connect to the vetted address: an httpx transport that pins every request.

Each request's host is vetted by a `Policy`; the request then goes to that IP with the
original `Host` header and TLS server name (SNI, certificate check), so nothing between the
check and the connect can re-ask DNS. Any client built on it (`pinned_client`) is covered,
one hop at a time; `net.fetch.Fetcher` adds vetted redirects.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from net.address import parse_ip
from net.errors import BadURL
from net.policy import Policy

_HOST = re.compile(r"^[A-Za-z0-9._-]+$|^[0-9A-Fa-f:.]+$")  # a DNS name, IPv4 or IPv6 literal


def parse_target(url: str | httpx.URL) -> httpx.URL:
    """An absolute http(s) URL with a plain host, or `BadURL`."""
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise BadURL(f"invalid URL {str(url)!r} ({exc})") from exc
    if target.scheme not in ("http", "https") or not target.host:
        raise BadURL(f"only absolute http:// and https:// URLs can be fetched, not {str(url)!r}")
    if not _HOST.match(host_of(target)):
        raise BadURL(f"invalid URL {str(url)!r} (bad host name)")
    return target


def host_of(target: httpx.URL) -> str:
    """The host as DNS sees it (IDNA-encoded), without brackets."""
    return target.raw_host.decode("ascii")


class PinnedTransport(httpx.AsyncBaseTransport):
    """Vets each request's host with `policy`, then sends it to the vetted address via `inner`."""

    def __init__(self, policy: Policy, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = parse_target(request.url)
        host = host_of(target)
        port = target.port or (443 if target.scheme == "https" else 80)
        address = await self.policy.vet(host, port)
        extensions = dict(request.extensions)
        if target.scheme == "https" and parse_ip(host) is None:
            extensions["sni_hostname"] = host  # certificates name the host, not the IP
        pinned = httpx.Request(
            request.method,
            target.copy_with(host=address),
            headers=request.headers,  # keeps `Host: <name>` that httpx set from the URL
            stream=request.stream,
            extensions=extensions,
        )
        return await self.inner.handle_async_request(pinned)

    async def aclose(self) -> None:
        await self.inner.aclose()


def pinned_client(
    policy: Policy, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any
) -> httpx.AsyncClient:
    """An `AsyncClient` whose every request is vetted and pinned (`transport`: the inner one).

    It does not follow redirects (a redirect's body would be read unbounded) and ignores
    proxy environment variables, which would connect somewhere other than the vetted IP.
    """
    return httpx.AsyncClient(
        transport=PinnedTransport(policy, transport),
        follow_redirects=False,
        trust_env=False,
        **kwargs,
    )
