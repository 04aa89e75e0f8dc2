"""`/runs` and `/runs/{id}`: the live trace page (static files shipped in the package).

The page itself holds no data and needs no key; its scripts read `/v1/swarm/runs...`
with the API key the user enters, so the page works with API keys on.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from server.errors import ApiError

router = APIRouter()
PAGE_DIR = Path(__file__).resolve().parent.parent / "trace_page"
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
_FILES = {p.name: p for p in PAGE_DIR.iterdir() if p.suffix in _TYPES}
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


@router.get("/runs", include_in_schema=False)
async def runs_page() -> FileResponse:
    return _file("index.html")


@router.get("/runs/static/{name}", include_in_schema=False)
async def page_file(name: str) -> FileResponse:
    return _file(name)


@router.get("/runs/{run_id}", include_in_schema=False)
async def run_page(run_id: str) -> FileResponse:
    return _file("index.html")
