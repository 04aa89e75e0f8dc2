"""The tool interface and registry that sub-agents use (docs/architecture.md, "Swarm").

A tool has a name, a JSON schema and an async `call`. Failures a model can act
on come back as a `ToolResult` with `is_error=True`, never as an exception that
would abort the run.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

# OpenAI-shaped JSON values (messages, tool schemas, response formats): the one alias every
# package uses for the plain dicts the wire format already defines.
Json = dict[str, Any]

# OpenAI function names: letters, digits, `_` and `-`, at most 64.
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ToolError(Exception):
    """A failure the model caused or can act on; its message is shown to the model verbatim."""


@dataclass(slots=True, frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: Json
    timeout_s: float = 30.0

    def openai_schema(self, *, strict: bool = False) -> Json:
        """The OpenAI `tools[]` entry for this tool."""
        fn: Json = {
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
        }
        if strict:
            fn["strict"] = True
        return {"type": "function", "function": fn}


@dataclass(slots=True)
class ToolContext:
    """What a call may see of its run: the request's images (`image:N`) and limits."""

    images: Sequence[bytes] = ()
    # Operator allow-list of hosts/addresses that bypass private-address blocking.
    allow_hosts: frozenset[str] = frozenset()
    multimodal: bool = False


@dataclass(slots=True)
class ToolResult:
    text: str
    is_error: bool = False
    # New images a tool produced (PNG bytes), shown to multimodal models.
    images: list[bytes] = field(default_factory=list)


@runtime_checkable
class Tool(Protocol):
    @property
    def spec(self) -> ToolSpec: ...

    async def call(self, args: Json, ctx: ToolContext) -> ToolResult: ...


class ToolRegistry:
    """Named tools; the swarm picks a per-sub-agent allow-list from it."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self._deadlines: _Deadlines | None = None
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        name = tool.spec.name
        if not _NAME.match(name):
            raise ValueError(f"tool name {name!r} must match {_NAME.pattern}")
        if name in self._tools:
            raise ValueError(f"tool {name!r} is already registered")
        self._tools[name] = tool

    def names(self) -> list[str]:
        return sorted(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def schemas(self, names: Iterable[str], *, strict: bool = False) -> list[Json]:
        return [self._tools[n].spec.openai_schema(strict=strict) for n in names if n in self._tools]

    async def invoke(self, name: str, arguments: str | Json, ctx: ToolContext) -> ToolResult:
        """Run one call under its timeout; every failure becomes an error result."""
        tool = self._tools.get(name)
        if tool is None:
            return ToolResult(f"unknown tool {name!r}; available: {', '.join(self.names())}", True)
        try:
            args = json.loads(arguments) if isinstance(arguments, str) else arguments
        except json.JSONDecodeError as exc:
            return ToolResult(f"arguments are not valid JSON ({exc.msg}); send a JSON object", True)
        if not isinstance(args, dict):
            return ToolResult("arguments must be a JSON object", True)
        loop = asyncio.get_running_loop()
        deadlines = self._deadlines
        if deadlines is None or deadlines.loop is not loop:
            deadlines = self._deadlines = _Deadlines(loop)
        limit = asyncio.timeout(None)  # entered without a timer of its own: see `_Deadlines`
        try:
            async with limit:
                entry = deadlines.add(limit, loop.time() + tool.spec.timeout_s)
                try:
                    return await tool.call(args, ctx)
                finally:
                    deadlines.done(entry)
        except TimeoutError:
            return ToolResult(f"{name} timed out after {tool.spec.timeout_s:g} s", True)
        except ToolError as exc:
            return ToolResult(f"{name}: {exc}", True)
        except Exception as exc:  # a tool's bug is data for the model, not a crash
            return ToolResult(f"{name} failed: {type(exc).__name__}: {exc}", True)


class _Deadlines:
    """Tool-call time limits on one timer per event loop, not one per call.

    Each call runs in an `asyncio.timeout` entered with no deadline; its deadline is kept
    here, and a single timer, set for the earliest, expires every call past its own
    (`Timeout.reschedule` to now: asyncio's own cancellation, `TimeoutError` in the call).
    A timer per call (created and cancelled around even an instant tool) was the dearest part
    of a cheap tool call when a thousand sub-agents call tools at once. Entries of finished
    calls are emptied at once and dropped when their deadline comes round, or sooner when they
    outnumber the calls still running (the heap stays within twice those).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._heap: list[tuple[float, int, list[asyncio.Timeout | None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._at = float("inf")
        self._count = 0
        self._running = 0

    def add(self, limit: asyncio.Timeout, when: float) -> list[asyncio.Timeout | None]:
        """Expire `limit` at loop time `when`; hand the returned entry to `done` afterwards."""
        entry: list[asyncio.Timeout | None] = [limit]
        self._count += 1
        self._running += 1
        heapq.heappush(self._heap, (when, self._count, entry))
        if when < self._at:
            self._arm(when)
        return entry

    def done(self, entry: list[asyncio.Timeout | None]) -> None:
        if entry[0] is not None:
            entry[0] = None
            self._running -= 1
        if len(self._heap) > 2 * self._running + 64:
            self._heap = [item for item in self._heap if item[2][0] is not None]
            heapq.heapify(self._heap)

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._at = when
        self._timer = self.loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._timer, self._at = None, float("inf")
        now = self.loop.time()
        heap = self._heap
        # A timer may fire a hair early (the loop's clock resolution): those go now too;
        # `reschedule` then waits out the rest itself.
        while heap and heap[0][0] <= now + 0.001:
            when, _, entry = heapq.heappop(heap)
            limit = entry[0]
            if limit is not None:
                entry[0] = None
                self._running -= 1
                limit.reschedule(when)
        if heap:
            self._arm(heap[0][0])
