"""The FastAPI application: routes, error rendering, middleware and the engine's lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from server.context import AppContext
from server.errors import ApiError, to_api_error
from server.middleware import EdgeMiddleware
from server.routes import chat, completions, meta, models, responses, swarm_runs, trace_page
from swarm.engine import Engine
from swarm.errors import SwarmError

log = logging.getLogger("kimi_swarm.app")

EngineFactory = Callable[[], AbstractAsyncContextManager[Engine]]
# Called once the engine is up, to attach the swarm (and anything else needing the engine).
OnReady = Callable[[AppContext], AbstractAsyncContextManager[None]]


@asynccontextmanager
async def _nothing(_: AppContext) -> AsyncIterator[None]:
    yield


def create_app(
    ctx: AppContext, engine_factory: EngineFactory, on_ready: OnReady = _nothing
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine_factory() as engine:
            ctx.engine = engine
            ctx.settings.served_name = ctx.settings.served_name or engine.info.name
            async with on_ready(ctx):
                log.info("serving %s", ", ".join(ctx.model_ids()))
                yield
            ctx.engine = None

    app = FastAPI(title="kimi-swarm", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.ctx = ctx
    for module in (chat, completions, responses, models, meta, swarm_runs, trace_page):
        app.include_router(module.router)
    _install_error_handlers(app)
    settings = ctx.settings
    app.add_middleware(
        EdgeMiddleware, api_keys=settings.api_keys, max_body_bytes=settings.max_body_bytes
    )
    if settings.cors is not None:  # outermost: preflights are answered before the key check
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors.origins),
            allow_methods=list(settings.cors.methods),
            allow_headers=list(settings.cors.headers),
            allow_credentials=settings.cors.credentials,
        )
    return app


def _error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error_response(exc)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        kind = "not_found" if exc.status_code == 404 else None
        return _error_response(ApiError(exc.status_code, str(exc.detail), code=kind))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _error_response(ApiError(400, f"Invalid request: {exc.errors()[0].get('msg')}"))

    @app.exception_handler(SwarmError)
    async def swarm_error(_: Request, exc: SwarmError) -> JSONResponse:
        return _error_response(to_api_error(exc))

    @app.exception_handler(Exception)
    async def any_error(_: Request, exc: Exception) -> JSONResponse:
        return _error_response(to_api_error(exc))
