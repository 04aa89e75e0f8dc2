"""A real kimi-swarm HTTP server on 127.0.0.1 (uvicorn in a thread) over the scripted engine.

Used by the trace page's browser test, its benchmark and the README screenshot: the page
runs against the real app, real SSE and real API-key checks; only the model is scripted.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import uvicorn

from server.app import create_app
from server.context import AppContext, ServerSettings
from swarm.engine import Engine, ModelInfo
from swarm.limits import SwarmLimits
from swarm.service import SwarmService
from swarm.store import open_store
from tests.fakes.scripted_engine import Script, ScriptedEngine
from tests.servers import free_port
from tools.base import Json, ToolContext, ToolRegistry, ToolResult, ToolSpec


class GateTool:
    """`gate`: blocks until the test calls `release()` (to look at a run mid-flight).

    Waits on an asyncio.Event of the server's loop (no thread per waiter: the loop's
    small default executor must stay free for the run store's reads).
    """

    spec = ToolSpec("gate", "Wait.", {"type": "object", "properties": {}})

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._released = False
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def call(self, args: Json, ctx: ToolContext) -> ToolResult:
        with self._lock:
            if not self._released:
                if self._event is None:
                    self._event, self._loop = asyncio.Event(), asyncio.get_running_loop()
                event = self._event
            else:
                event = None
        if event is not None:
            await event.wait()
        return ToolResult("the gate opened")

    def release(self) -> None:
        with self._lock:
            self._released = True
            if self._event is not None and self._loop is not None:
                self._loop.call_soon_threadsafe(self._event.set)


class AddTool:
    spec = ToolSpec(
        "add",
        "Add two numbers.",
        {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}},
    )

    async def call(self, args: Json, ctx: ToolContext) -> ToolResult:
        return ToolResult(str(args["a"] + args["b"]))


@dataclass
class LiveServer:
    url: str
    gate: GateTool
    api_key: str | None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    @contextlib.contextmanager
    def swarm_request(self, **swarm: object) -> Iterator[str]:
        """Start one streamed swarm request in a thread; yields its run id while it runs."""
        ids: queue.Queue[str | BaseException] = queue.Queue()
        body = {
            "model": "kimi-fake-swarm",
            "messages": [{"role": "user", "content": "do the work"}],
            "stream": True,
            "swarm": {"tool_mode": "auto", **swarm},
        }

        def client() -> None:
            try:
                with httpx.stream(
                    "POST", f"{self.url}/v1/chat/completions", json=body,
                    headers=self.headers(), timeout=120,
                ) as resp:  # fmt: skip
                    resp.raise_for_status()
                    ids.put(resp.headers["x-swarm-run-id"])
                    for _ in resp.iter_bytes():
                        pass
            except BaseException as exc:
                ids.put(exc)

        thread = threading.Thread(target=client, daemon=True)
        thread.start()
        first = ids.get(timeout=60)
        if isinstance(first, BaseException):
            raise first
        try:
            yield first
        finally:
            self.gate.release()
            thread.join(60)


@contextlib.contextmanager
def live_server(
    scripts: dict[str, Script],
    *,
    api_key: str | None = None,
    limits: SwarmLimits | None = None,
    root_path: str = "",
) -> Iterator[LiveServer]:
    gate = GateTool()
    engine = ScriptedEngine(scripts, info=ModelInfo("kimi-fake"))

    @asynccontextmanager
    async def serving() -> AsyncIterator[Engine]:
        yield engine

    @asynccontextmanager
    async def attach(ctx: AppContext) -> AsyncIterator[None]:
        tools = ToolRegistry([gate, AddTool()])
        store = open_store(":memory:")
        ctx.swarm = SwarmService(engine, tools, store, limits or SwarmLimits())
        try:
            yield
        finally:
            ctx.swarm = None
            store.close()

    keys = (api_key,) if api_key else ()
    settings = ServerSettings(served_name="kimi-fake", api_keys=keys)
    app = create_app(AppContext(settings), serving, attach)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", root_path=root_path
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", gate, api_key)
    finally:
        gate.release()
        server.should_exit = True
        thread.join(30)


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
CHROMIUM = "/usr/bin/chromium"
