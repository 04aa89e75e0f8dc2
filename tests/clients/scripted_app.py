"""A real HTTP server (uvicorn on 127.0.0.1, in a thread) over a swarm on the scripted engine.

The orchestrator creates one sub-agent, assigns it a task (and, when the client offers a
`get_weather` tool, calls it too, which pauses the run), then answers with the results.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
import uvicorn

from server.app import create_app
from server.context import AppContext, ServerSettings
from swarm.engine import ChatRequest, Engine, ModelInfo
from swarm.limits import SwarmLimits
from swarm.service import SwarmService
from swarm.store import open_store
from tests.fakes.scripted_engine import ScriptedEngine, Step, call, calls, say
from tests.servers import free_port
from tools.base import ToolRegistry

MODEL = "kimi-fake"
SWARM_MODEL = f"{MODEL}-swarm"
PLAIN_ANSWER = "plain hello"
RESEARCH = "research says 42"


def _tool_names(request: ChatRequest) -> set[str]:
    return {t["function"]["name"] for t in request.tools or []}


def _texts(content: object) -> str:
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content)


def orchestrator(request: ChatRequest, turn: int) -> Step:
    if turn == 0:
        return call("create_subagent", {"name": "w", "system_prompt": "You research."})
    if turn == 1:
        task = ("assign_task", {"agent": "w", "task": "research the question"})
        if "get_weather" in _tool_names(request):
            return calls(task, ("get_weather", {"city": "Paris"}))
        return calls(task)
    last_call = max(i for i, m in enumerate(request.messages) if m["role"] == "assistant")
    results = [_texts(m["content"]) for m in request.messages[last_call + 1 :]]
    return say("Final answer: " + " | ".join(results), pieces=4)


def scripted_engine() -> ScriptedEngine:
    scripts = {"orchestrator": orchestrator, "w": [say(RESEARCH)], "": [say(PLAIN_ANSWER)]}
    return ScriptedEngine(scripts, info=ModelInfo(MODEL))


@contextmanager
def serve_scripted(engine: ScriptedEngine | None = None) -> Iterator[str]:
    """Serve the app on a free port of 127.0.0.1 until the block ends; yields the base URL."""
    engine = engine or scripted_engine()

    @asynccontextmanager
    async def serving() -> AsyncIterator[Engine]:
        yield engine

    @asynccontextmanager
    async def attach(ctx: AppContext) -> AsyncIterator[None]:
        store = open_store(":memory:")
        ctx.swarm = SwarmService(engine, ToolRegistry(), store, SwarmLimits())
        yield
        ctx.swarm = None
        store.close()

    app = create_app(AppContext(ServerSettings(served_name=MODEL)), serving, attach)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the scripted server did not start")
        time.sleep(0.05)
    try:
        httpx.get(f"{url}/health", timeout=5).raise_for_status()
        yield f"{url}/v1"
    finally:
        server.should_exit = True
        thread.join(30)
