"""Fault injection: engine errors, cut streams, hung calls, tool crashes, an orchestrator whose
engine is down, a store that raises. Each case runs streamed over real HTTP; a run ends
cleanly when its stream ends with [DONE] after `run.completed`, or (orchestrator-side
failure only) with `run.failed` and exactly one OpenAI-shaped error event, never a 5xx.
Events are lost when the client's in-band sequence numbers have gaps, or when the store
(read back over HTTP) lacks an event the client saw.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import httpx

from swarm.engine import ChatRequest
from swarm.errors import EngineUnavailable
from swarm.limits import SwarmLimits
from swarm.store import RunStore, open_store
from tests.fakes.scripted_engine import Step, call, calls, say
from tests.reliability.live import Streamed, live_app, openai_shaped, stream_run, swarm_body
from tests.swarm.conftest import task_text
from tools.base import Json

WORKER = {"name": "w", "system_prompt": "p", "tools": ["add", "boom"]}
FAN = calls(*[("assign_task", {"agent": "w", "task": t}) for t in ("ok", "bad", "ok2")])
FAST = SwarmLimits(engine_retry_backoff_s=0.001, subagent_timeout_s=0.5)


def _orchestrator() -> list[Step]:
    return [call("create_subagent", WORKER), FAN, say("final answer")]


def _worker(fault: Callable[[], Step]) -> Callable[[ChatRequest, int], Step]:
    def play(request: ChatRequest, turn: int) -> Step:
        return fault() if task_text(request) == "bad" else say("a fine answer")

    return play


def _flaky() -> Callable[[], Step]:
    seen = [0]

    def step() -> Step:  # transient: down twice, then up
        seen[0] += 1
        return Step(error=EngineUnavailable("HTTP 503")) if seen[0] % 3 else say("recovered")

    return step


CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "engine_error_transient": lambda: {"w": _worker(_flaky())},
    "engine_error_permanent": lambda: {"w": _worker(lambda: Step(error=EngineUnavailable("down")))},
    "cut_stream": lambda: {
        "w": _worker(lambda: Step(content="partial answer", cut=httpx.ReadTimeout("read timeout")))
    },
    "hung_call": lambda: {"w": _worker(lambda: Step(content="x", hang=True))},
    "tool_crash": lambda: {"w": _worker(lambda: call("boom"))},
    "our_bug_in_task": lambda: {"w": _worker(lambda: Step(error=KeyError("oops")))},
    "orchestrator_engine_down": lambda: {
        "orchestrator": [Step(error=EngineUnavailable("backend gone"))]
    },
}


class FailingStore:
    """The real store, except that writes raise once the run has started (a store outage)."""

    def __init__(self, inner: RunStore, after: int = 2) -> None:
        self._inner = inner
        self._writes = 0
        self._after = after

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _tick(self) -> None:
        self._writes += 1
        if self._writes > self._after:
            raise RuntimeError("run store is down")

    def put_events(self, run_id: str, events: list[Json]) -> None:
        self._tick()
        self._inner.put_events(run_id, events)

    def put_run(self, *args: Any, **kw: Any) -> Future[None] | None:
        self._tick()
        return self._inner.put_run(*args, **kw)


@dataclass
class CaseReport:
    runs: int = 0
    clean: int = 0
    five_xx: int = 0
    events_lost: int = 0
    unclean: list[str] = field(default_factory=list)


def clean(out: Streamed, orchestrator_down: bool) -> bool:
    types = [e["type"] for e in out.events]
    if out.status != 200:
        return False
    if orchestrator_down:
        return (
            types.count("run.failed") == 1
            and len(out.errors) == 1
            and not out.done
            and (openai_shaped(out.errors[0]))
        )
    return out.done and not out.errors and types[-1:] == ["run.completed"]


def gaps(out: Streamed) -> int:
    seqs = [e["sequence_number"] for e in out.events]
    return (seqs[-1] + 1 - len(seqs)) if seqs else 0


async def run_case(name: str, runs: int, *, store_fails: bool = False) -> CaseReport:
    scripts = {"orchestrator": _orchestrator(), **CASES[name]()}
    store: RunStore = open_store(":memory:")
    if store_fails:
        store = FailingStore(store)  # type: ignore[assignment]
    report = CaseReport()
    async with (
        live_app(scripts, limits=FAST, store=store) as live,
        httpx.AsyncClient(base_url=live.url, timeout=60) as client,
    ):
        for _ in range(runs):
            out = await stream_run(client, swarm_body())
            report.runs += 1
            report.five_xx += out.status >= 500
            if clean(out, name == "orchestrator_engine_down"):
                report.clean += 1
            else:
                report.unclean.append(f"{out.status} {out.errors[:1]} done={out.done}")
            report.events_lost += gaps(out) + await _missing_in_store(client, out)
    return report


async def _missing_in_store(client: httpx.AsyncClient, out: Streamed) -> int:
    """Events the client saw that the run's stored event stream does not hold.

    Read for at most 3 s: a run whose final record never reached the store still looks
    running there, so its event stream would wait for more.
    """
    if out.run_id is None or not out.events:
        return 0
    stored: set[int] = set()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(3):
            url = f"/v1/swarm/runs/{out.run_id}/events"
            async with client.stream("GET", url) as resp:
                async for line in resp.aiter_lines():
                    if line.startswith("id: "):
                        stored.add(int(line[4:]))
    return sum(e["sequence_number"] not in stored for e in out.events)


async def all_cases(runs: int) -> dict[str, CaseReport]:
    reports = {name: await run_case(name, runs) for name in CASES}
    reports["store_raises"] = await run_case("engine_error_transient", runs, store_fails=True)
    return reports
