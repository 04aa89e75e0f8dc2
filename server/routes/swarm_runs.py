"""`/v1/swarm/runs`: list runs, read one, follow its events (SSE, resumable), cancel it.

With API keys on, a run belongs to the key that created it: another key sees a 404.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from server.context import AppContext
from server.errors import ApiError
from server.sse import SSE_HEADERS, sse_event, with_heartbeat
from swarm.service import SwarmService

router = APIRouter()


def _swarm(request: Request) -> SwarmService:
    ctx: AppContext = request.app.state.ctx
    if ctx.swarm is None:
        raise ApiError(404, "swarm mode is not enabled on this server", code="not_found")
    return ctx.swarm


def _owner(request: Request) -> str | None:
    """The caller's key fingerprint (None when the server has no API keys)."""
    return request.scope.get("state", {}).get("owner")


async def _record(swarm: SwarmService, run_id: str, request: Request) -> dict[str, object]:
    record = await swarm.store.get(run_id)
    if record is None or record.pop("owner", None) != _owner(request):
        raise ApiError(404, f"no swarm run {run_id!r}", param="run_id", code="not_found")
    return record


@router.get("/v1/swarm/runs")
async def list_runs(request: Request, limit: int = 20, before: float | None = None) -> JSONResponse:
    if not 1 <= limit <= 100:
        raise ApiError(400, "limit must be between 1 and 100", param="limit")
    runs = await _swarm(request).store.list(limit=limit, before=before, owner=_owner(request))
    return JSONResponse({"object": "list", "data": runs, "has_more": len(runs) == limit})


@router.get("/v1/swarm/runs/{run_id}")
async def get_run(request: Request, run_id: str) -> JSONResponse:
    swarm = _swarm(request)
    record = await _record(swarm, run_id, request)
    return JSONResponse({**record, "live": record["status"] == "running"})


@router.get("/v1/swarm/runs/{run_id}/events")
async def run_events(request: Request, run_id: str, after: int | None = None) -> Response:
    """SSE of the run's events (`id:` = sequence number); `Last-Event-ID` resumes after it."""
    swarm = _swarm(request)
    await _record(swarm, run_id, request)
    last = request.headers.get("last-event-id")
    if last is not None:
        try:
            after = int(last)
        except ValueError:
            raise ApiError(400, "Last-Event-ID must be an integer", param="Last-Event-ID") from None
    start = -1 if after is None else after

    async def frames() -> AsyncGenerator[bytes, None]:
        async for event in swarm.follow(run_id, start):
            yield sse_event(json.dumps(event), id=event["sequence_number"])

    heartbeat_s = request.app.state.ctx.settings.heartbeat_s
    return StreamingResponse(
        with_heartbeat(frames(), heartbeat_s), media_type="text/event-stream", headers=SSE_HEADERS
    )


@router.post("/v1/swarm/runs/{run_id}/cancel")
async def cancel_run(request: Request, run_id: str) -> JSONResponse:
    swarm = _swarm(request)
    await _record(swarm, run_id, request)
    cancelled = await swarm.cancel(run_id)
    return JSONResponse({**await _record(swarm, run_id, request), "cancelled": cancelled})
