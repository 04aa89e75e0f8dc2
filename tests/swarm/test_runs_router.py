"""The HTTP edge of the swarm: chat with `<name>-swarm`, then the `/v1/swarm/runs` endpoints."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from server.app import create_app
from server.context import AppContext, ServerSettings
from swarm.engine import Engine, ModelInfo
from swarm.limits import SwarmLimits
from swarm.service import SwarmService
from swarm.store import open_store
from tests.fakes.scripted_engine import ScriptedEngine, call, calls, say
from tools.base import ToolRegistry

ORCH = [
    call("create_subagent", {"name": "w", "system_prompt": "p"}),
    calls(
        ("assign_task", {"agent": "w", "task": "A"}), ("assign_task", {"agent": "w", "task": "B"})
    ),
    say("final answer"),
]


@asynccontextmanager
async def app_client() -> AsyncIterator[httpx.AsyncClient]:
    engine = ScriptedEngine(
        {"orchestrator": ORCH, "w": [say("a sub-agent answer")]}, info=ModelInfo("kimi-fake")
    )

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

    app = create_app(AppContext(ServerSettings(served_name="fake")), serving, attach)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def sse_data(text: str) -> list[tuple[str | None, Any]]:
    """(id, parsed data) per SSE frame, skipping comments and [DONE]."""
    out = []
    for frame in text.strip().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in frame.splitlines() if not line.startswith(":")
        )
        if fields.get("data") not in (None, "[DONE]"):
            out.append((fields.get("id"), json.loads(fields["data"])))
    return out


async def test_streamed_swarm_chat_then_run_endpoints() -> None:
    async with app_client() as client:
        body = {
            "model": "fake-swarm",
            "messages": [{"role": "user", "content": "q"}],
            "stream": True,
            "stream_options": {"include_swarm_events": True, "include_usage": True},
        }
        resp = await client.post("/v1/chat/completions", json=body)
        assert resp.status_code == 200, resp.text
        run_id = resp.headers["x-swarm-run-id"]
        chunks = [d for _, d in sse_data(resp.text)]
        events = [
            c["swarm"]
            for c in chunks
            if c.get("swarm", {}).get("type", "run.summary") != "run.summary"
        ]
        assert events[0]["type"] == "run.started" and events[-1]["type"] == "run.completed"
        text = "".join(
            c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices")
        )
        assert text == "final answer"
        assert (
            chunks[-1]["swarm"]["type"] == "run.summary"
            and chunks[-1]["swarm"]["run_id"] == run_id
            and chunks[-1]["swarm"]["critical_steps"] == 4
        )

        record = (await client.get(f"/v1/swarm/runs/{run_id}")).json()
        assert record["status"] == "completed" and record["live"] is False
        listed = (await client.get("/v1/swarm/runs")).json()["data"]
        assert [r["run_id"] for r in listed] == [run_id]

        replay = await client.get(f"/v1/swarm/runs/{run_id}/events", headers={"Last-Event-ID": "5"})
        frames = sse_data(replay.text)
        assert [int(i or -1) for i, _ in frames] == list(range(6, len(events)))
        assert [d for _, d in frames] == events[6:]

        cancel = (await client.post(f"/v1/swarm/runs/{run_id}/cancel")).json()
        assert cancel["cancelled"] is False
        missing = await client.get("/v1/swarm/runs/run_nope")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_non_streamed_swarm_chat_carries_swarm_object_and_usage() -> None:
    async with app_client() as client:
        body = {
            "model": "fake-swarm",
            "messages": [{"role": "user", "content": "q"}],
            "swarm": {"max_concurrent": 1},
        }
        resp = await client.post("/v1/chat/completions", json=body)
        data = resp.json()
        assert data["choices"][0]["message"]["content"] == "final answer"
        assert data["swarm"]["run_id"] == resp.headers["x-swarm-run-id"]
        assert data["swarm"]["total_steps"] == 5 and data["usage"]["prompt_tokens"] == 50
        bad = await client.post(
            "/v1/chat/completions", json={**body, "swarm": {"max_subagents": 1000}}
        )
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "swarm.max_subagents"
