"""A disconnect storm: many streamed swarm runs over a slow engine, clients cut at random lines.

Afterwards nothing may be left: no asyncio task, no engine request, no live run, no run
the store still calls running, no file descriptor beyond those open before.
"""

from __future__ import annotations

import asyncio
import gc
import random
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from tests.fakes.scripted_engine import call, calls, say
from tests.reliability.live import Live, open_fds, stream_run, swarm_body

WORKER = {"name": "w", "system_prompt": "p", "tools": ["add"]}


def storm_scripts() -> dict[str, Any]:
    """create → fan out 4 tasks (each: a tool call, then an answer) → answer."""
    fan = calls(*[("assign_task", {"agent": "w", "task": f"t{i}"}) for i in range(4)])
    return {
        "orchestrator": [call("create_subagent", WORKER), fan, say("the final answer")],
        "w": [call("add", {"a": 1, "b": 2}), say("a sub-agent answer")],
    }


@dataclass
class StormReport:
    runs: int
    cut: int
    completed: int
    five_xx: int
    tasks_left: int
    engine_requests_left: int
    live_runs_left: int
    stored_running_left: int
    fds_left: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


async def storm(live: Live, runs: int, concurrency: int, seed: int = 7) -> StormReport:
    rng = random.Random(seed)
    gc.collect()
    fds_before = open_fds()
    tasks_before = set(asyncio.all_tasks())
    # A quarter read to the end; the rest are cut at a random line (a run streams ~70).
    cuts = [None if rng.random() < 0.25 else rng.randint(1, 70) for _ in range(runs)]
    gate = asyncio.Semaphore(concurrency)
    results = []

    async def one(cut: int | None) -> None:
        async with gate, httpx.AsyncClient(base_url=live.url, timeout=60) as client:
            results.append(await stream_run(client, swarm_body(), cut_after_lines=cut))

    async with asyncio.TaskGroup() as tg:
        for cut in cuts:
            tg.create_task(one(cut))
    await _settle(live)
    gc.collect()
    current = asyncio.current_task()
    left = [t for t in asyncio.all_tasks() - tasks_before if t is not current and not t.done()]
    stored = await live.store.list(limit=runs + 10)
    return StormReport(
        runs=runs,
        cut=sum(r.cut for r in results),
        completed=sum(r.done for r in results),
        five_xx=sum(r.status >= 500 for r in results),
        tasks_left=len(left),
        engine_requests_left=live.engine.active,
        live_runs_left=len(live.service._live),
        stored_running_left=sum(r["status"] == "running" for r in stored),
        fds_left=max(0, open_fds() - fds_before),
    )


async def _settle(live: Live, limit_s: float = 10.0) -> None:
    """Wait (bounded) until every cut run has noticed and cleaned up."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit_s
    while loop.time() < end and (live.engine.active or live.service._live):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    await live.store.flush()
    await asyncio.sleep(0.2)  # closed sockets finish closing
