"""A real HTTP server on 127.0.0.1 (uvicorn, in a thread) serving the app on a scripted engine."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager

import uvicorn

from server.app import create_app
from server.context import AppContext, ServerSettings
from swarm.engine import Engine, ModelInfo
from swarm.limits import SwarmLimits
from swarm.service import SwarmService
from swarm.store import open_store
from tests.fakes.scripted_engine import Script, ScriptedEngine
from tests.servers import free_port
from tests.swarm.conftest import AddTool
from tools.base import ToolRegistry


@contextmanager
def live_swarm(
    scripts: Mapping[str, Script], *, heartbeat_s: float = 15.0, model: str = "kimi-fake"
) -> Iterator[tuple[str, ScriptedEngine]]:
    """Yield (base URL ending in /v1, engine) while the server runs; `<model>-swarm` is served."""
    engine = ScriptedEngine(scripts, info=ModelInfo(model))

    @asynccontextmanager
    async def serving() -> AsyncIterator[Engine]:
        yield engine

    @asynccontextmanager
    async def attach(ctx: AppContext) -> AsyncIterator[None]:
        store = open_store(":memory:")
        ctx.swarm = SwarmService(engine, ToolRegistry([AddTool()]), store, SwarmLimits())
        try:
            yield
        finally:
            ctx.swarm = None
            store.close()

    settings = ServerSettings(served_name=model, heartbeat_s=heartbeat_s)
    app = create_app(AppContext(settings), serving, attach)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="live-swarm", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}/v1", engine
    finally:
        server.should_exit = True
        thread.join(30)
