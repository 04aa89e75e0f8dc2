"""Every log line emitted inside a swarm run carries its request id and run id (and agent/task)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from server import logs
from server.app import create_app
from server.context import AppContext, ServerSettings
from swarm.engine import Engine, ModelInfo
from swarm.limits import SwarmLimits
from swarm.service import SwarmService
from swarm.store import open_store
from tests.fakes.scripted_engine import ScriptedEngine, call, calls, say
from tools.base import Json, ToolContext, ToolRegistry, ToolResult, ToolSpec

tool_log = logging.getLogger("kimi_swarm.test_tool")
ORCH = [
    call("create_subagent", {"name": "w", "system_prompt": "p", "tools": ["note"]}),
    calls(*(("assign_task", {"agent": "w", "task": t}) for t in ("A", "B", "C"))),
    say("final answer"),
]


class NoteTool:
    """Logs from inside a sub-agent's tool call, as a real tool or library would."""

    spec = ToolSpec("note", "Note.", {"type": "object", "properties": {}})

    async def call(self, args: Json, ctx: ToolContext) -> ToolResult:
        tool_log.warning("tool ran")
        return ToolResult("noted")


@asynccontextmanager
async def app_client() -> AsyncIterator[httpx.AsyncClient]:
    scripts = {"orchestrator": ORCH, "w": [call("note", latency_s=0.01), say("done, noted")]}
    engine = ScriptedEngine(scripts, info=ModelInfo("kimi-fake"))

    @asynccontextmanager
    async def serving() -> AsyncIterator[Engine]:
        yield engine

    @asynccontextmanager
    async def attach(ctx: AppContext) -> AsyncIterator[None]:
        tools = ToolRegistry([NoteTool()])
        store = open_store(":memory:")
        ctx.swarm = SwarmService(engine, tools, store, SwarmLimits())
        yield
        ctx.swarm = None
        store.close()

    app = create_app(AppContext(ServerSettings(served_name="fake")), serving, attach)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logs.make_handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    # The test's own HTTP client logs on its side of the connection, outside any run.
    return [r for r in lines if not r["logger"].startswith(("httpx", "httpcore", "asyncio"))]


@pytest.mark.parametrize("stream", [True, False])
async def test_every_line_inside_a_run_carries_its_ids(
    json_lines: io.StringIO, stream: bool
) -> None:
    body = {"model": "fake-swarm", "messages": [{"role": "user", "content": "q"}]}
    async with app_client() as client:
        json_lines.seek(0)
        json_lines.truncate(0)
        resp = await client.post(
            "/v1/chat/completions", json={**body, "stream": stream}, headers={"x-request-id": "r1"}
        )
        assert resp.status_code == 200, resp.text
    run_id = resp.headers["x-swarm-run-id"]
    lines = records(json_lines)
    loggers = {r["logger"] for r in lines}
    assert {"kimi_swarm.swarm", "kimi_swarm.swarm.events", "kimi_swarm.test_tool"} <= loggers
    assert "kimi_swarm.access" in loggers
    for r in lines:
        if r["logger"] == "kimi_swarm.app":
            continue  # start-up and shutdown of the test app, outside the request
        assert (r.get("request_id"), r.get("run_id")) == ("r1", run_id), r
    tool_lines = [r for r in lines if r["logger"] == "kimi_swarm.test_tool"]
    assert sorted(r["task"] for r in tool_lines) == ["t1", "t2", "t3"]
    assert {r["agent"] for r in tool_lines} == {"w"}
    started = [r for r in lines if r["message"].startswith("task.started")]
    assert sorted(r["task"] for r in started) == ["t1", "t2", "t3"]
    run_lines = [r for r in lines if r["logger"] == "kimi_swarm.swarm"]
    assert run_lines and all(r["agent"] == "orchestrator" and "task" not in r for r in run_lines)


def test_text_format_shows_agent_and_task() -> None:
    stream = io.StringIO()
    handler = logs.make_handler("text", stream)
    record = logging.LogRecord("kimi_swarm.x", logging.INFO, __file__, 1, "step", None, None)
    record.agent, record.task = "w", "t4"
    with logs.bound(logs.RUN_ID, "run_1"):
        handler.handle(record)
    assert stream.getvalue().rstrip().endswith("step [run_id=run_1 agent=w task=t4]")
