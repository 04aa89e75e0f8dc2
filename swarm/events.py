"""Swarm trace events (docs/architecture.md, "Swarm"): a closed set of types, numbered per run.

An `EventLog` numbers a run's events, keeps them in memory for live followers
(the SSE endpoint) and hands each one to the run's output stream.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from tools.base import Json

log = logging.getLogger("kimi_swarm.swarm.events")


class EventType(enum.StrEnum):
    RUN_STARTED = "run.started"
    AGENT_CREATED = "agent.created"
    TASK_QUEUED = "task.queued"
    TASK_STARTED = "task.started"
    AGENT_STEP = "agent.step"
    TOOL_CALLED = "tool.called"
    TOOL_RESULT = "tool.result"
    TASK_COMPLETED = "task.completed"
    RUN_COMPLETED = "run.completed"
    RUN_FAILED = "run.failed"


@dataclass(slots=True, frozen=True)
class SwarmEvent:
    type: EventType
    sequence_number: int
    run_id: str
    time: float
    data: Json = field(default_factory=dict)
    agent: str | None = None
    task: str | None = None

    def to_dict(self) -> Json:
        out: Json = {
            "type": str(self.type),
            "sequence_number": self.sequence_number,
            "run_id": self.run_id,
            "time": self.time,
        }
        if self.agent is not None:
            out["agent"] = self.agent
        if self.task is not None:
            out["task"] = self.task
        out["data"] = self.data
        return out


class EventLog:
    """Numbers, keeps and forwards one run's events; followers wait for the next tick."""

    def __init__(self, run_id: str, sink: Callable[[SwarmEvent], None], *, start: int = 0) -> None:
        self.run_id = run_id
        self.events: list[SwarmEvent] = []
        self.unsaved: list[SwarmEvent] = []
        self.closed = False
        self._next = start
        self._sink = sink
        # Set (and dropped) on the next change; created only while someone follows.
        self._tick: asyncio.Event | None = None

    @property
    def last_sequence(self) -> int:
        return self._next - 1

    def emit(
        self, type: EventType, *, agent: str | None = None, task: str | None = None, **data: Any
    ) -> SwarmEvent:
        event = SwarmEvent(type, self._next, self.run_id, time.time(), data, agent, task)
        self._next += 1
        self.events.append(event)
        self.unsaved.append(event)
        self._sink(event)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s", type, data.get("status") or data.get("name") or "")
        self._wake()
        return event

    def take_unsaved(self) -> list[SwarmEvent]:
        out, self.unsaved = self.unsaved, []
        return out

    def close(self) -> None:
        """Mark the run's stream over (also when it ended abruptly) and wake followers."""
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        if self._tick is not None:
            self._tick.set()
            self._tick = None

    async def follow(self, after: int) -> AsyncIterator[SwarmEvent]:
        """Events with sequence number > `after`, live, until the run's stream closes."""
        while True:
            if self._tick is None:
                self._tick = asyncio.Event()
            tick = self._tick
            for event in self.events:
                if event.sequence_number > after:
                    after = event.sequence_number
                    yield event
            if self.closed:
                return
            await tick.wait()
