"""The `fetch_url(url, max_chars?)` tool: a guarded HTTP GET that returns readable text.

Every hop (the first request and each redirect) is resolved and vetted by `Guard`,
then sent to the vetted address with the original `Host` header and TLS server
name, so DNS cannot be re-asked between the check and the connect. Size, time
and redirect count are bounded; HTML becomes text (trafilatura), PDF via pypdf.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

import httpx

from tools.args import opt_int, req_str
from tools.base import Json, ToolContext, ToolError, ToolResult, ToolSpec
from tools.extract import html_title, html_to_text, pdf_to_text, tidy
from tools.netguard import Guard

MAX_CHARS = 100_000
_HOST = re.compile(r"^[A-Za-z0-9._-]+$|^[0-9A-Fa-f:.]+$")  # a DNS name, IPv4 or IPv6 literal
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml")


@dataclass(slots=True, frozen=True)
class FetchLimits:
    max_bytes: int = 5_000_000
    timeout_s: float = 20.0
    max_redirects: int = 5
    default_chars: int = 20_000


@dataclass(slots=True)
class Page:
    url: str
    content_type: str
    body: bytes
    truncated: bool
    encoding: str | None


def _spec(limits: FetchLimits) -> ToolSpec:
    return ToolSpec(
        name="fetch_url",
        description="Fetch a web page or PDF over http(s) and return its main text.",
        parameters={
            "type": "object",
            "properties": {
                "url": {"type": "string", "description": "An absolute http:// or https:// URL."},
                "max_chars": {
                    "type": "integer",
                    "minimum": 100,
                    "maximum": MAX_CHARS,
                    "description": f"Longest text to return (default {limits.default_chars}).",
                },
            },
            "required": ["url"],
            "additionalProperties": False,
        },
        timeout_s=limits.timeout_s + 15.0,  # room for text extraction after the download
    )


def _target(url: str) -> httpx.URL:
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ToolError(f"invalid URL {url!r} ({exc})") from exc
    if target.scheme not in ("http", "https") or not target.host:
        raise ToolError(f"only absolute http:// and https:// URLs can be fetched, not {url!r}")
    if not _HOST.match(target.host):
        raise ToolError(f"invalid URL {url!r} (bad host name)")
    return target


@dataclass(slots=True)
class FetchUrlTool:
    guard: Guard = field(default_factory=Guard)
    limits: FetchLimits = field(default_factory=FetchLimits)
    # Tests inject a transport; production uses httpx's default.
    transport: httpx.AsyncBaseTransport | None = None
    spec: ToolSpec = field(init=False)

    def __post_init__(self) -> None:
        self.spec = _spec(self.limits)

    async def call(self, args: Json, ctx: ToolContext) -> ToolResult:
        url = req_str(args, "url", max_len=8192).strip()
        max_chars = opt_int(args, "max_chars", self.limits.default_chars, 100, MAX_CHARS)
        try:
            async with asyncio.timeout(self.limits.timeout_s):
                page = await self.fetch(url, ctx)
        except TimeoutError as exc:
            raise ToolError(f"the download timed out after {self.limits.timeout_s:g} s") from exc
        title, text = await asyncio.to_thread(_to_text, page)
        return ToolResult(_render(page, title, text, max_chars))

    async def fetch(self, url: str, ctx: ToolContext) -> Page:
        """GET `url`, following at most `max_redirects` vetted redirects."""
        timeout = httpx.Timeout(self.limits.timeout_s, connect=min(10.0, self.limits.timeout_s))
        async with httpx.AsyncClient(
            transport=self.transport, follow_redirects=False, trust_env=False, timeout=timeout
        ) as client:
            for _ in range(self.limits.max_redirects + 1):
                target = _target(url)
                port = target.port or (443 if target.scheme == "https" else 80)
                address = await self.guard.vet(target.host, port, ctx.allow_hosts)
                request = client.build_request(
                    "GET",
                    target.copy_with(host=address),
                    headers={"Host": target.netloc.decode("ascii"), "Accept": "*/*"},
                    extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
                )
                location = await self._send(client, request, url)
                if isinstance(location, Page):
                    return location
                url = str(target.join(location))
        raise ToolError(f"too many redirects (more than {self.limits.max_redirects})")

    async def _send(
        self, client: httpx.AsyncClient, request: httpx.Request, url: str
    ) -> Page | str:
        """One hop: the page, or the redirect location to vet next."""
        try:
            resp = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise ToolError(f"could not fetch {url} ({type(exc).__name__}: {exc})") from exc
        try:
            if resp.is_redirect:
                return resp.headers.get("location", "")
            if resp.status_code >= 400:
                raise ToolError(f"{url} answered HTTP {resp.status_code} {resp.reason_phrase}")
            body, truncated = await self._read(resp)
            kind = resp.headers.get("content-type", "").split(";")[0].strip().lower()
            return Page(url, kind, body, truncated, resp.charset_encoding)
        except httpx.HTTPError as exc:
            raise ToolError(f"the download of {url} failed ({type(exc).__name__})") from exc
        finally:
            await resp.aclose()

    async def _read(self, resp: httpx.Response) -> tuple[bytes, bool]:
        """At most `max_bytes` of the decoded body; stops reading (no error) past that."""
        parts: list[bytes] = []
        size = 0
        async for part in resp.aiter_bytes():
            parts.append(part)
            size += len(part)
            if size > self.limits.max_bytes:
                return b"".join(parts)[: self.limits.max_bytes], True
        return b"".join(parts), False


def _to_text(page: Page) -> tuple[str, str]:
    """(title, text) of a downloaded page. Blocking."""
    head = page.body[:1024].lstrip().lower()
    if page.content_type == "application/pdf" or head.startswith(b"%pdf"):
        if page.truncated:
            raise ToolError("the PDF is larger than the download limit and cannot be read")
        try:
            return "", pdf_to_text(page.body)
        except ValueError as exc:
            raise ToolError(str(exc)) from exc
    is_html = "html" in page.content_type or head.startswith((b"<!doctype html", b"<html"))
    if not is_html and page.content_type and not page.content_type.startswith(TEXT_TYPES):
        raise ToolError(f"cannot read content of type {page.content_type!r} (only HTML, PDF, text)")
    raw = page.body.decode(page.encoding or "utf-8", errors="replace")
    return (html_title(raw), html_to_text(raw)) if is_html else ("", tidy(raw))


def _render(page: Page, title: str, text: str, max_chars: int) -> str:
    header = f"URL: {page.url}\n" + (f"Title: {title}\n" if title else "")
    if page.truncated:
        header += "(the page was larger than the download limit; only its start was read)\n"
    if len(text) > max_chars:
        more = f"\n\n[truncated: {max_chars} of {len(text)} characters shown; max_chars can go up to {MAX_CHARS}]"
        text = text[:max_chars] + more
    return f"{header}\n{text or '(no readable text)'}"
