"""JSON logs with request/run ids, the access line, and OTel spans through the edge middleware."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from server import logs, tracing
from server.app import create_app
from server.context import AppContext, ServerSettings
from server.middleware import EdgeMiddleware
from swarm.engine import Engine, ModelInfo
from swarm.limits import SwarmLimits
from swarm.service import SwarmService
from swarm.store import open_store
from tests.fakes.scripted_engine import ScriptedEngine, call, say
from tools.base import ToolRegistry

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
work_log = logging.getLogger("kimi_swarm.test_work")
ORCH = [
    call("create_subagent", {"name": "w", "system_prompt": "p"}),
    call("assign_task", {"agent": "w", "task": "A"}),
    say("final answer"),
]


async def work(_: Request) -> Response:
    logs.bind_run_id("run-7")
    work_log.info("working")
    return PlainTextResponse("ok", headers={"X-Swarm-Run-Id": "run-7"})


def app() -> EdgeMiddleware:
    inner = Starlette(routes=[Route("/v1/work", work, methods=["POST"])])
    return EdgeMiddleware(inner, api_keys=(), max_body_bytes=1024)


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logs.make_handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use_provider(provider)
    yield exporter
    tracing.shutdown_tracing()


async def post(headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post("/v1/work", headers=headers)


async def test_json_logs_carry_request_and_run_ids(json_lines: io.StringIO) -> None:
    resp = await post({"x-request-id": "req-42"})
    assert resp.headers["x-request-id"] == "req-42"
    records = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    work_line = next(r for r in records if r["logger"] == "kimi_swarm.test_work")
    assert (work_line["request_id"], work_line["run_id"], work_line["level"]) == (
        "req-42",
        "run-7",
        "info",
    )
    access = next(r for r in records if r["logger"] == "kimi_swarm.access")
    assert access["method"] == "POST" and access["path"] == "/v1/work"
    assert access["status"] == 200 and access["request_id"] == "req-42"
    assert access["run_id"] == "run-7" and access["duration_ms"] >= 0
    assert logs.REQUEST_ID.get() is None  # reset once the request is over


def test_extra_run_id_wins_and_text_format_shows_ids() -> None:
    stream = io.StringIO()
    handler = logs.make_handler("text", stream)
    record = logging.LogRecord("kimi_swarm.swarm", logging.INFO, __file__, 1, "step", None, None)
    record.run_id = "run-from-swarm"
    with logs.bound(logs.REQUEST_ID, "req-1"):
        handler.handle(record)
    assert stream.getvalue().rstrip().endswith("step [request_id=req-1 run_id=run-from-swarm]")


@asynccontextmanager
async def swarm_client() -> AsyncIterator[httpx.AsyncClient]:
    """The real app with a scripted engine; the swarm's spans configured as `serve` does."""
    scripts = {"orchestrator": ORCH, "w": [say("a sub-agent answer")]}
    engine = ScriptedEngine(scripts, info=ModelInfo("kimi-fake"))

    @asynccontextmanager
    async def serving() -> AsyncIterator[Engine]:
        yield engine

    @asynccontextmanager
    async def attach(ctx: AppContext) -> AsyncIterator[None]:
        trace = tracing.swarm_trace("vllm", False, {})
        store = open_store(":memory:")
        ctx.swarm = SwarmService(engine, ToolRegistry(), store, SwarmLimits(), trace=trace)
        yield
        store.close()

    app = create_app(AppContext(ServerSettings(served_name="fake")), serving, attach)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_swarm_spans_join_the_callers_trace(spans: InMemorySpanExporter) -> None:
    headers = {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01", "x-request-id": "req-9"}
    body = {"model": "fake-swarm", "messages": [{"role": "user", "content": "q"}]}
    async with swarm_client() as client:
        resp = await client.post("/v1/chat/completions", json=body, headers=headers)
    assert resp.status_code == 200, resp.text
    run_id = resp.headers["x-swarm-run-id"]
    finished = spans.get_finished_spans()
    by_name = {s.name: s for s in finished}
    http, run = by_name["POST /v1/chat/completions"], by_name["invoke_agent orchestrator"]
    assert {format(s.context.trace_id, "032x") for s in finished} == {TRACE_ID}
    assert http.parent is not None and format(http.parent.span_id, "016x") == PARENT_ID
    assert run.parent is not None and run.parent.span_id == http.context.span_id
    assert run.attributes is not None and run.attributes["gen_ai.conversation.id"] == run_id
    task = by_name["invoke_agent w"]
    assert task.parent is not None and task.parent.span_id == run.context.span_id
    assert http.attributes is not None
    assert http.attributes["http.response.status_code"] == 200
    assert http.attributes["kimi_swarm.request_id"] == "req-9"
    assert http.attributes["kimi_swarm.run_id"] == run_id


async def test_no_spans_when_tracing_is_off() -> None:
    scope = {"type": "http", "method": "GET", "path": "/health", "headers": []}
    with tracing.http_span(scope, "req-1") as span:
        assert span is None
    resp = await post({"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"})
    assert resp.status_code == 200
    assert tracing.endpoint_from(None, {}) is None
    assert tracing.endpoint_from(None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}) == (
        "http://c:4318"
    )
