"""A GET that follows redirects by hand, each hop vetted and pinned, under size/time limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

import httpx

from net.errors import BadURL, SendFailed, TooManyRedirects
from net.policy import Policy
from net.transport import parse_target, pinned_client


@dataclass(slots=True)
class Hop:
    """The final (non-redirect) answer: `url` is the hop's URL as written, not the pinned IP."""

    url: str
    response: httpx.Response


@dataclass(slots=True, frozen=True)
class Fetcher:
    """GETs under `policy`; the caller bounds the total time with `asyncio.timeout`."""

    policy: Policy = field(default_factory=Policy)
    max_redirects: int = 5
    # Per network operation (connect, each read); httpx's `Timeout` or seconds.
    timeout: httpx.Timeout | float = 20.0
    # The transport under the pinning one (tests inject one; default: httpx's own).
    transport: httpx.AsyncBaseTransport | None = None

    def allowing(self, entries: frozenset[str]) -> Fetcher:
        return replace(self, policy=self.policy.allowing(entries)) if entries else self

    @asynccontextmanager
    async def open(self, url: str, headers: Mapping[str, str] | None = None) -> AsyncIterator[Hop]:
        """The streamed final response of GET `url`; closed when the block exits.

        Raises `BadURL`, `Unresolvable`, `Refused` (for any hop), `TooManyRedirects` or
        `SendFailed`; errors while the caller reads the body are httpx's own.
        """
        async with pinned_client(self.policy, self.transport, timeout=self.timeout) as client:
            for _ in range(self.max_redirects + 1):
                target = parse_target(url)
                request = client.build_request("GET", target, headers=headers)
                try:
                    response = await client.send(request, stream=True)
                except httpx.HTTPError as exc:
                    raise SendFailed(url, exc) from exc
                try:
                    if not response.is_redirect:
                        yield Hop(url, response)
                        return
                    url = _join(target, response.headers.get("location", ""))
                finally:
                    await response.aclose()
        raise TooManyRedirects(self.max_redirects)


def _join(base: httpx.URL, location: str) -> str:
    try:
        return str(base.join(location))
    except httpx.InvalidURL as exc:
        raise BadURL(f"invalid redirect location {location!r} ({exc})") from exc


async def read_capped(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    """At most `max_bytes` of the decoded body, and whether there was more (reading stops)."""
    parts: list[bytes] = []
    size = 0
    async for part in response.aiter_bytes():
        parts.append(part)
        size += len(part)
        if size > max_bytes:
            return b"".join(parts)[:max_bytes], True
    return b"".join(parts), False
