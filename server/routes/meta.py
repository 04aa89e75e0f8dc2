"""Operational endpoints: `/health`, `/version`, `/metrics`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from server import __version__
from server.context import AppContext

router = APIRouter()


@router.get("/health")
async def health(request: Request) -> Response:
    ctx: AppContext = request.app.state.ctx
    engine = ctx.engine
    if engine is None:
        return JSONResponse({"status": "loading"}, status_code=503)
    check = getattr(engine, "healthy", None)
    if check is not None and not await check():
        return JSONResponse({"status": "unhealthy"}, status_code=503)
    return JSONResponse({"status": "ok", "model": ctx.settings.served_name})


@router.get("/version")
async def version(request: Request) -> dict[str, str]:
    ctx: AppContext = request.app.state.ctx
    return {"version": __version__, **ctx.settings.version_info}


@router.get("/metrics")
async def prometheus_metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
