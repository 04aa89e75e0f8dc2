"""Bytes of one media URL: `data:`, `http(s):` (SSRF-guarded) or `file:` under the media dir.

HTTP safety is the outbound-address policy (`net`): every hop is resolved and refused
when any address is not public, unless the host is allow-listed (`--media-allow-host`) or
private addresses are allowed (`--media-allow-private`); the connection goes to that vetted
IP (Host header and TLS SNI keep the name). Its errors become `MediaError`s here (400).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from media.config import MediaLimits
from media.errors import MediaError
from net import (
    AllowList,
    Fetcher,
    NetError,
    Policy,
    Refused,
    Resolver,
    SendFailed,
    TooManyRedirects,
    Unresolvable,
    read_capped,
    system_resolver,
)


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


@dataclass(slots=True)
class HttpFetcher:
    """Fetches http(s) media under `limits`; `resolver`/`transport` are test seams."""

    limits: MediaLimits
    resolver: Resolver = system_resolver
    transport: httpx.AsyncBaseTransport | None = None

    async def fetch(self, url: str) -> Fetched:
        try:
            async with asyncio.timeout(self.limits.fetch_timeout_s):
                return await self._get(url)
        except TimeoutError as exc:
            raise MediaError(
                f"fetching the media took longer than {self.limits.fetch_timeout_s:g}s",
                code="fetch_timeout",
            ) from exc
        except NetError as exc:
            raise _media_error(exc, self.limits) from exc
        except httpx.HTTPError as exc:
            raise MediaError(
                f"fetching the media failed: {type(exc).__name__}", code="fetch_failed"
            ) from exc

    def fetcher(self) -> Fetcher:
        """The policy `limits` ask for: public addresses, plus the operator's exceptions."""
        allow = AllowList.parse(self.limits.allowed_hosts)
        if self.limits.allow_private:
            allow |= AllowList.everything()
        timeout = httpx.Timeout(self.limits.fetch_timeout_s)
        return Fetcher(
            Policy(allow, self.resolver), self.limits.max_redirects, timeout, self.transport
        )

    async def _get(self, url: str) -> Fetched:
        async with self.fetcher().open(url, {"Accept": "image/*, video/*"}) as hop:
            response = hop.response
            if response.status_code != 200:
                raise MediaError(
                    f"the media URL answered HTTP {response.status_code}", code="fetch_failed"
                )
            return Fetched(await self._body(response), response.headers.get("content-type"))

    async def _body(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length")
        too_large = MediaError(
            f"the media is larger than {self.limits.max_bytes} bytes", code="media_too_large"
        )
        if declared is not None and declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise too_large
        body, more = await read_capped(response, self.limits.max_bytes)
        if more:
            raise too_large
        return body


def _media_error(exc: NetError, limits: MediaLimits) -> MediaError:
    """The policy's verdicts in this API's words and codes."""
    match exc:
        case Refused():
            message = f"the media host {exc.host!r} is a private or loopback address"
            return MediaError(message, code="forbidden_address")
        case Unresolvable():
            return MediaError(f"the media host {exc.host!r} does not resolve", code="fetch_failed")
        case TooManyRedirects():
            message = f"the media URL redirected more than {limits.max_redirects} times"
            return MediaError(message, code="too_many_redirects")
        case SendFailed():
            message = f"fetching the media failed: {type(exc.cause).__name__}"
            return MediaError(message, code="fetch_failed")
        case _:  # BadURL
            return MediaError("media URLs must be http(s), data: or file:", code="invalid_url")


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
