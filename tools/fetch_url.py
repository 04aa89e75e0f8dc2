"""The `fetch_url(url, max_chars?)` tool: a guarded HTTP GET that returns readable text.

Every hop (the first request and each redirect) is resolved, vetted and pinned by the
outbound-address policy (`net`), so DNS cannot be re-asked between the check and the
connect. Size, time and redirect count are bounded; HTML becomes text (trafilatura),
PDF via pypdf.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpx

from net import Fetcher, Hop, NetError, Policy, Refused, read_capped
from tools.args import opt_int, req_str
from tools.base import Json, ToolContext, ToolError, ToolResult, ToolSpec
from tools.extract import html_title, html_to_text, pdf_to_text, tidy

MAX_CHARS = 100_000
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


@dataclass(slots=True)
class FetchUrlTool:
    policy: Policy = field(default_factory=Policy)
    limits: FetchLimits = field(default_factory=FetchLimits)
    # Tests inject a transport (under the pinning one); production uses httpx's default.
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
        try:
            async with self._fetcher(ctx).open(url, {"Accept": "*/*"}) as hop:
                return await self._page(hop)
        except Refused as exc:
            raise ToolError(f"{exc} (the operator can allow it with --tool-allow-host)") from exc
        except NetError as exc:
            raise ToolError(str(exc)) from exc

    def _fetcher(self, ctx: ToolContext) -> Fetcher:
        timeout = httpx.Timeout(self.limits.timeout_s, connect=min(10.0, self.limits.timeout_s))
        fetcher = Fetcher(self.policy, self.limits.max_redirects, timeout, self.transport)
        return fetcher.allowing(ctx.allow_hosts)

    async def _page(self, hop: Hop) -> Page:
        """The final answer as a `Page`; at most `max_bytes` are read (no error past that)."""
        resp = hop.response
        if resp.status_code >= 400:
            raise ToolError(f"{hop.url} answered HTTP {resp.status_code} {resp.reason_phrase}")
        try:
            body, truncated = await read_capped(resp, self.limits.max_bytes)
        except httpx.HTTPError as exc:
            raise ToolError(f"the download of {hop.url} failed ({type(exc).__name__})") from exc
        kind = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        return Page(hop.url, kind, body, truncated, resp.charset_encoding)


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
