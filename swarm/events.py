"""Swarm trace events (docs/architecture.md, "Swarm"): a closed set of types, numbered per run.

An `EventLog` numbers a run's events and hands each one to the run's output stream and to the
run store, which writes it at once (batched, on its writer thread) and then publishes it to
followers (`swarm.follow`).
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from swarm import metrics
from tools.base import Json

log = logging.getLogger("kimi_swarm.swarm.events")

TERMINAL = frozenset({"run.completed", "run.failed"})


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


# Not frozen: one is made per event, and a frozen dataclass's __init__ (object.__setattr__ per
# field) cost three times as much. Nothing changes an event once emitted.
@dataclass(slots=True)
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
    """Numbers one run's events; hands each to the run's output and to the store's writer."""

    def __init__(
        self,
        run_id: str,
        sink: Callable[[SwarmEvent], None],
        persist: Callable[[str, list[Json]], None],
        *,
        start: int = 0,
    ) -> None:
        self.run_id = run_id
        self._next = start
        self._sink = sink
        self._persist = persist
        self._store_down = False

    @property
    def last_sequence(self) -> int:
        return self._next - 1

    def emit(
        self, type: EventType, *, agent: str | None = None, task: str | None = None, **data: Any
    ) -> SwarmEvent:
        event = SwarmEvent(type, self._next, self.run_id, time.time(), data, agent, task)
        self._next += 1
        self._sink(event)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s", type, data.get("status") or data.get("name") or "")
        try:
            self._persist(self.run_id, [event.to_dict()])
        except Exception as exc:  # a store outage costs stored events, never the run
            metrics.STORE_ERRORS.inc()
            if not self._store_down:
                self._store_down = True
                log.error("run %s: storing events failed: %s", self.run_id, exc)
        return event
