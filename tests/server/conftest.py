from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from server.app import create_app
from server.context import AppContext, ServerSettings
from tests.server.fake_engine import ReplyEngine, serving

AppMaker = Callable[..., FastAPI]


@pytest.fixture
def engine() -> ReplyEngine:
    return ReplyEngine()


@pytest.fixture
def make_app(engine: ReplyEngine) -> AppMaker:
    def make(**settings: object) -> FastAPI:
        ctx = AppContext(ServerSettings(served_name="fake", **settings))  # type: ignore[arg-type]
        return create_app(ctx, lambda: serving(engine))

    return make


@pytest.fixture
async def client(make_app: AppMaker) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c
