"""`/runs` and `/runs/{id}`: the live trace page (static files shipped in the package).

The page itself holds no data and needs no key; its scripts read `/v1/swarm/runs...`
with the API key the user enters, so the page works with API keys on.
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from server.errors import ApiError

router = APIRouter()
PAGE_DIR = Path(__file__).resolve().parent.parent / "trace_page"
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
_FILES = {p.name: p for p in PAGE_DIR.iterdir() if p.suffix in _TYPES and p.name != "index.html"}
_INDEX = (PAGE_DIR / "index.html").read_text(encoding="utf-8")
_HEADERS = {
    "Cache-Control": "no-cache",
    # Everything the page loads comes from this server; no inline script, no third party.
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; img-src 'self' data:",
    "X-Content-Type-Options": "nosniff",
}


def _file(name: str) -> FileResponse:
    path = _FILES.get(name)
    if path is None:
        raise ApiError(404, f"no such file {name!r}", code="not_found")
    return FileResponse(path, media_type=_TYPES[path.suffix], headers=_HEADERS)


def _page(request: Request) -> HTMLResponse:
    """index.html with the server's --root-path, so links and API calls keep a proxy's prefix."""
    root = html.escape(str(request.scope.get("root_path") or "").rstrip("/"), quote=True)
    return HTMLResponse(_INDEX.replace("__ROOT__", root), headers=_HEADERS)


@router.get("/runs", include_in_schema=False)
async def runs_page(request: Request) -> HTMLResponse:
    return _page(request)


@router.get("/runs/static/{name}", include_in_schema=False)
async def page_file(name: str) -> FileResponse:
    return _file(name)


@router.get("/runs/{run_id}", include_in_schema=False)
async def run_page(request: Request) -> HTMLResponse:
    return _page(request)
