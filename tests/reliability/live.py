"""A real uvicorn server on 127.0.0.1 in this event loop, over a scripted engine, plus a client
that reads a streamed swarm run (and can cut it at any line)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from server.app import create_app
from server.context import AppContext, ServerSettings
from swarm.engine import Engine, ModelInfo
from swarm.limits import SwarmLimits
from swarm.service import SwarmService
from swarm.store import RunStore, open_store
from tests.fakes.scripted_engine import Script, ScriptedEngine
from tests.swarm.conftest import AddTool, BoomTool, SleepTool
from tools.base import Json, ToolRegistry


@dataclass
class Live:
    url: str
    engine: ScriptedEngine
    service: SwarmService
    store: RunStore


@asynccontextmanager
async def live_app(
    scripts: Mapping[str, Script],
    *,
    latency_s: float = 0.0,
    limits: SwarmLimits | None = None,
    store: RunStore | None = None,
) -> AsyncIterator[Live]:
    engine = ScriptedEngine(scripts, latency_s=latency_s, info=ModelInfo("kimi-fake"))
    store = store or open_store(":memory:")
    service = SwarmService(
        engine, ToolRegistry([AddTool(), SleepTool(), BoomTool()]), store, limits or SwarmLimits()
    )

    @asynccontextmanager
    async def serving() -> AsyncIterator[Engine]:
        yield engine

    @asynccontextmanager
    async def attach(ctx: AppContext) -> AsyncIterator[None]:
        ctx.swarm = service
        yield
        ctx.swarm = None

    app = create_app(AppContext(ServerSettings(served_name="fake")), serving, attach)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(), name="uvicorn")
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Live(f"http://127.0.0.1:{port}", engine, service, store)
    finally:
        server.should_exit = True
        await task
        store.close()


@dataclass
class Streamed:
    """What one streamed request delivered."""

    status: int
    run_id: str | None = None
    events: list[Json] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)
    content: str = ""
    done: bool = False  # saw [DONE]
    cut: bool = False  # we closed it early


def swarm_body(text: str = "q", **swarm: Any) -> Json:
    body: Json = {
        "model": "fake-swarm",
        "messages": [{"role": "user", "content": text}],
        "stream": True,
        "stream_options": {"include_swarm_events": True},
    }
    if swarm:
        body["swarm"] = swarm
    return body


async def stream_run(
    client: httpx.AsyncClient, body: Json, *, cut_after_lines: int | None = None
) -> Streamed:
    """POST a streamed chat; read SSE frames, closing after `cut_after_lines` lines if given."""
    async with client.stream("POST", "/v1/chat/completions", json=body) as resp:
        out = Streamed(resp.status_code, resp.headers.get("x-swarm-run-id"))
        if resp.status_code != 200:
            await resp.aread()
            out.errors.append(_json(resp.content))
            return out
        lines = 0
        async for line in resp.aiter_lines():
            lines += 1
            if cut_after_lines is not None and lines > cut_after_lines:
                out.cut = True
                break
            _take(out, line)
        return out


def _take(out: Streamed, line: str) -> None:
    if not line.startswith("data: "):
        return
    payload = line[6:]
    if payload == "[DONE]":
        out.done = True
        return
    chunk = _json(payload.encode())
    if not isinstance(chunk, dict) or "error" in chunk:
        out.errors.append(chunk)
    elif isinstance(chunk.get("swarm"), dict) and "sequence_number" in chunk["swarm"]:
        out.events.append(chunk["swarm"])
    else:
        for choice in chunk.get("choices") or []:
            out.content += (choice.get("delta") or {}).get("content") or ""


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def openai_shaped(body: Any) -> bool:
    """`{"error": {"message": str, "type": str, "param", "code"}}`."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return False
    err = body["error"]
    keys_ok = {"message", "type", "param", "code"} <= set(err)
    return keys_ok and isinstance(err["message"], str) and isinstance(err["type"], str)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))
