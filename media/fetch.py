"""Bytes of one media URL: `data:`, `http(s):` (SSRF-guarded) or `file:` under the media dir.

HTTP safety: every hop (redirects are followed by hand) is resolved first and refused
when any address is not public, unless the host is allow-listed or private
addresses are allowed; the connection then goes to that vetted IP (Host header and
TLS SNI keep the name), so a DNS answer cannot change between check and connect.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from media.config import MediaLimits
from media.errors import MediaError

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """All addresses the OS resolver gives for `host`."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(slots=True)
class Fetched:
    data: bytes
    mime: str | None
    # The original `data:` URL when the input was one (lets callers skip re-encoding).
    data_url: str | None = None


def decode_data_url(url: str, limits: MediaLimits) -> Fetched:
    """`data:<mime>[;...];base64,<payload>`; size checked before decoding."""
    head, sep, payload = url[5:].partition(",")
    if not sep or not head.endswith(";base64"):
        raise MediaError(
            "data: URLs must be base64 (`data:<mime>;base64,<data>`)", code="invalid_url"
        )
    if len(payload) * 3 // 4 > limits.max_bytes:
        raise MediaError(
            f"the media is larger than {limits.max_bytes} bytes", code="media_too_large"
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MediaError("the data: URL is not valid base64", code="invalid_url") from exc
    return Fetched(data, head[: -len(";base64")].partition(";")[0] or None, url)


def read_local(url: str, limits: MediaLimits) -> Fetched:
    """A `file:` URL, only inside the operator's media directory."""
    if limits.media_dir is None:
        raise MediaError("local files are disabled on this server", code="invalid_url")
    path = Path(unquote(urlsplit(url).path)).resolve()
    if not path.is_relative_to(limits.media_dir) or not path.is_file():
        raise MediaError("the file is not inside the server's media directory", code="invalid_url")
    if path.stat().st_size > limits.max_bytes:
        raise MediaError(
            f"the media is larger than {limits.max_bytes} bytes", code="media_too_large"
        )
    return Fetched(path.read_bytes(), None)


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(slots=True)
class HttpFetcher:
    """Fetches http(s) media under `limits`; `resolver`/`transport` are test seams."""

    limits: MediaLimits
    resolver: Resolver = system_resolver
    transport: httpx.AsyncBaseTransport | None = None

    async def fetch(self, url: str) -> Fetched:
        try:
            async with asyncio.timeout(self.limits.fetch_timeout_s):
                return await self._follow(url)
        except TimeoutError as exc:
            raise MediaError(
                f"fetching the media took longer than {self.limits.fetch_timeout_s:g}s",
                code="fetch_timeout",
            ) from exc
        except httpx.HTTPError as exc:
            raise MediaError(
                f"fetching the media failed: {type(exc).__name__}", code="fetch_failed"
            ) from exc

    async def _follow(self, url: str) -> Fetched:
        async with httpx.AsyncClient(
            transport=self.transport, follow_redirects=False, trust_env=False
        ) as client:
            for _ in range(self.limits.max_redirects + 1):
                request = await self._request(client, url)
                response = await client.send(request, stream=True)
                try:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("location", ""))
                        continue
                    if response.status_code != 200:
                        raise MediaError(
                            f"the media URL answered HTTP {response.status_code}",
                            code="fetch_failed",
                        )
                    return Fetched(await self._body(response), response.headers.get("content-type"))
                finally:
                    await response.aclose()
        raise MediaError(
            f"the media URL redirected more than {self.limits.max_redirects} times",
            code="too_many_redirects",
        )

    async def _request(self, client: httpx.AsyncClient, url: str) -> httpx.Request:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MediaError("media URLs must be http(s), data: or file:", code="invalid_url")
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = await self._vet(host, port)
        pinned = httpx.URL(url).copy_with(host=address)
        headers = {"Host": parts.netloc.rpartition("@")[2], "Accept": "image/*, video/*"}
        return client.build_request(
            "GET", pinned, headers=headers, extensions={"sni_hostname": host}
        )

    async def _vet(self, host: str, port: int) -> str:
        """The address to connect to, after refusing private ones (see module doc)."""
        try:
            addresses = await self.resolver(host, port)
        except OSError as exc:
            raise MediaError(
                f"the media host {host!r} does not resolve", code="fetch_failed"
            ) from exc
        if not addresses:
            raise MediaError(f"the media host {host!r} does not resolve", code="fetch_failed")
        trusted = self.limits.allow_private or host in self.limits.allowed_hosts
        if not trusted and not all(_is_public(a) for a in addresses):
            raise MediaError(
                f"the media host {host!r} is a private or loopback address",
                code="forbidden_address",
            )
        return addresses[0]

    async def _body(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise MediaError(
                f"the media is larger than {self.limits.max_bytes} bytes", code="media_too_large"
            )
        body = bytearray()
        async for piece in response.aiter_bytes():
            body += piece
            if len(body) > self.limits.max_bytes:
                raise MediaError(
                    f"the media is larger than {self.limits.max_bytes} bytes",
                    code="media_too_large",
                )
        return bytes(body)


async def fetch_url(url: str, limits: MediaLimits, http: HttpFetcher | None = None) -> Fetched:
    """Dispatch on the scheme; local file reads run in a thread."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "data":
        return decode_data_url(url, limits)
    if scheme == "file":
        return await asyncio.to_thread(read_local, url, limits)
    if scheme in ("http", "https"):
        if not limits.allow_http:
            raise MediaError(
                "fetching media over http(s) is disabled on this server", code="invalid_url"
            )
        return await (http or HttpFetcher(limits)).fetch(url)
    raise MediaError("media URLs must be http(s), data: or file:", code="invalid_url")
