"""Shared builders for swarm tests: real tools, a service on the scripted engine, a collector."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from swarm.engine import ChatRequest, Delta, ModelInfo, Usage
from swarm.events import SwarmEvent
from swarm.ledger import RunSummary
from swarm.limits import SwarmLimits, SwarmOptions
from swarm.run import Attacher
from swarm.service import SwarmService
from swarm.store import RunStore, open_store
from tests.fakes.scripted_engine import Script, ScriptedEngine
from tools.base import Json, ToolContext, ToolRegistry, ToolResult, ToolSpec


class AddTool:
    spec = ToolSpec(
        "add",
        "Add two numbers.",
        {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}},
    )

    async def call(self, args: Json, ctx: ToolContext) -> ToolResult:
        return ToolResult(str(args["a"] + args["b"]))


class SleepTool:
    spec = ToolSpec("sleep", "Sleep.", {"type": "object", "properties": {"s": {"type": "number"}}})

    async def call(self, args: Json, ctx: ToolContext) -> ToolResult:
        await asyncio.sleep(args.get("s", 3600))
        return ToolResult("slept")


class BoomTool:
    spec = ToolSpec("boom", "Always fails.", {"type": "object", "properties": {}})

    async def call(self, args: Json, ctx: ToolContext) -> ToolResult:
        raise RuntimeError("kaboom")


@dataclass
class Outputs:
    """What one `run()` produced, split by kind."""

    items: list[Any] = field(default_factory=list)

    @property
    def events(self) -> list[SwarmEvent]:
        return [i for i in self.items if isinstance(i, SwarmEvent)]

    @property
    def deltas(self) -> list[Delta]:
        return [i for i in self.items if isinstance(i, Delta)]

    @property
    def content(self) -> str:
        return "".join(d.content or "" for d in self.deltas)

    @property
    def usage(self) -> Usage:
        (usage,) = [i for i in self.items if isinstance(i, Usage)]
        return usage

    @property
    def summary(self) -> RunSummary:
        last = self.items[-1]
        assert isinstance(last, RunSummary)
        return last

    def types(self) -> list[str]:
        return [str(e.type) for e in self.events]


@dataclass
class Harness:
    engine: ScriptedEngine
    service: SwarmService

    def opts(self, **raw: Any) -> SwarmOptions:
        return self.service.options(raw)

    async def run(
        self, messages: list[Json] | None = None, tools: list[Json] | None = None, **raw: Any
    ) -> Outputs:
        request = ChatRequest(
            messages=messages or [{"role": "user", "content": "question"}], tools=tools
        )
        out = Outputs()
        async for item in self.service.run(request, self.opts(**raw)):
            out.items.append(item)
        return out


def make_harness(
    scripts: Mapping[str, Script],
    *,
    latency_s: float = 0.0,
    limits: SwarmLimits | None = None,
    model: str = "kimi-test",
    store: RunStore | None = None,
    attacher: Attacher | None = None,
) -> Harness:
    engine = ScriptedEngine(scripts, latency_s=latency_s, info=ModelInfo(name=model))
    registry = ToolRegistry([AddTool(), SleepTool(), BoomTool()])
    if store is None:
        store = open_store(":memory:")
        _OPENED.append(store)
    service = SwarmService(engine, registry, store, limits or SwarmLimits(), attacher=attacher)
    return Harness(engine, service)


# Stores `make_harness` opened; closed after each test (each has a writer thread).
_OPENED: list[RunStore] = []


@pytest.fixture(autouse=True)
def close_stores() -> Any:
    yield
    while _OPENED:
        _OPENED.pop().close()


def tool_messages(request: ChatRequest) -> list[Json]:
    return [m for m in request.messages if m["role"] == "tool"]


def task_text(request: ChatRequest) -> str:
    """The task a sub-agent was given (its first user message)."""
    content = request.messages[1]["content"]
    return content if isinstance(content, str) else content[0]["text"]


@pytest.fixture(autouse=True)
async def no_leaked_tasks() -> Any:
    """Every test must leave no asyncio task behind."""
    yield
    await asyncio.sleep(0)
    current = asyncio.current_task()
    leaked = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    assert leaked == []
