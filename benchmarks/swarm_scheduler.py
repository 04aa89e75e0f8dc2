"""Swarm scheduler overhead: N independent tasks × k steps on a simulated model.

Every model call sleeps a fixed latency (50 ms) and answers from a script, so the
ideal wall time of a run is CriticalSteps × latency. Measured side by side, in one
process, on the event loop the server runs on (uvloop when installed, as uvicorn picks):
our swarm (efficiency = ideal / measured wall, median of REPEATS), the bare timers with no
work (floor_efficiency: what the loop allows on this machine at that moment), the same
simulated engine and tool driven by a bare loop with none of a swarm's work
(bare_loop_efficiency: the ceiling for any scheduler here, see `bare_loop_once`), the same
tasks run one at a time (speedup; N ≤ 256, it takes N × k × 50 ms), the same fan-out through
the OpenAI Agents SDK (agents as tools, parallel tool calls) on the same simulated model
(ratio_vs_peer = peer time / swarm time; at N = 1024 once, if it ends within PEER_CAP_S).

The process's garbage collector is set as the server sets it once up (server/boot/heap.py:
start-up's objects frozen, young collections every 10,000 allocations, not 700).

Per task step on the event loop: the loop thread's CPU time over a run / its model calls
(what bounds efficiency: the loop serialises every step), and the whole process's (the
store's writer thread included). Memory per concurrent sub-agent (ours at the largest N,
the peer's at 256), in a fresh subprocess per library: peak RSS growth (sampled each ms; counts
SQLite's and every C allocation, the in-memory run store included) and peak traced Python
memory.

Run: python benchmarks/swarm_scheduler.py   (needs the `bench` extra)
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from agents_peer import peer_once

from server.boot.heap import settle_heap
from swarm.engine import ChatRequest, Delta, EngineEvent, ModelInfo, ToolCallDelta, Usage
from swarm.limits import SwarmLimits
from swarm.service import SwarmService
from swarm.store import open_store
from tools.base import ToolContext, ToolRegistry, ToolResult, ToolSpec

LATENCY_S = 0.05
STEPS = 3  # k: model calls per sub-agent task (k-1 tool calls, then the answer)
NS = (1, 8, 64, 256, 1024)
REPEATS = 5
SEQUENTIAL_MAX_N = 256
PEER_CAP_S = 300.0


class Noop:
    spec = ToolSpec("noop", "Does nothing.", {"type": "object", "properties": {}})

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return ToolResult("ok")


class SimEngine:
    """Scripted by request id (`run/agent/task/step`): orchestrator fans out N, workers take k steps."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._info = ModelInfo(name="sim-gpt-", max_model_len=131072, structured_outputs=False)

    @property
    def info(self) -> ModelInfo:
        return self._info

    async def stream(self, request: ChatRequest) -> AsyncIterator[EngineEvent]:
        _, agent, _, step = request.request_id.split("/")
        await asyncio.sleep(LATENCY_S)
        for delta in self._script(agent, int(step)):
            yield delta
        yield Usage(prompt_tokens=10, completion_tokens=5)

    def _script(self, agent: str, step: int) -> list[Delta]:
        if agent == "orchestrator" and step == 0:
            calls = [("create_subagent", {"name": "w", "system_prompt": "work", "tools": ["noop"]})]
            calls += [("assign_task", {"agent": "w", "task": f"item {i}"}) for i in range(self.n)]
            frags = [
                ToolCallDelta(i, f"c{i}", name, json.dumps(a)) for i, (name, a) in enumerate(calls)
            ]
            return [Delta(tool_calls=frags), Delta(finish_reason="tool_calls")]
        if agent == "w" and step < STEPS - 1:
            return [
                Delta(tool_calls=[ToolCallDelta(0, "n0", "noop", "{}")]),
                Delta(finish_reason="tool_calls"),
            ]
        return [Delta(content="a complete answer"), Delta(finish_reason="stop")]

    async def close(self) -> None:
        return None


@dataclass(slots=True)
class Measured:
    wall_s: float
    critical_steps: int
    total_steps: int
    loop_cpu_s: float  # the event loop's thread
    process_cpu_s: float  # every thread (the store's writer too)


async def swarm_once(n: int, concurrent: int) -> Measured:
    # The server-wide cap on engine calls in flight (default 256) protects a real engine; the
    # simulated one has no capacity to protect, and at N = 1024 the default cap alone would
    # hold efficiency near 0.36 (four waves of 256 per step). Raised to N, as an operator
    # running a thousand sub-agents would.
    limits = SwarmLimits(
        max_subagents=max(n, 1),
        max_concurrent=concurrent,
        max_engine_calls=max(n, 256),
        store_path=":memory:",
    )
    service = SwarmService(SimEngine(n), ToolRegistry([Noop()]), open_store(":memory:"), limits)
    request = ChatRequest(messages=[{"role": "user", "content": "go"}])
    cpu, proc, t0 = time.thread_time(), time.process_time(), time.perf_counter()
    summary: Any = None
    async for item in service.run(request, service.options(None)):
        summary = item
    elapsed = time.perf_counter() - t0
    cpu, proc = time.thread_time() - cpu, time.process_time() - proc
    service.store.close()
    assert summary.status == "completed", summary
    return Measured(elapsed, summary.critical_steps, summary.total_steps, cpu, proc)


async def bare_once(n: int) -> float:
    """The floor: the same timers with no work at all (two orchestrator calls around N tasks
    of k calls each), so `ideal / bare` is what this loop on this machine allows right now."""

    async def task() -> None:
        for _ in range(STEPS):
            await asyncio.sleep(LATENCY_S)

    t0 = time.perf_counter()
    await asyncio.sleep(LATENCY_S)
    async with asyncio.TaskGroup() as tg:
        for _ in range(n):
            tg.create_task(task())
    await asyncio.sleep(LATENCY_S)
    return time.perf_counter() - t0


async def bare_loop_once(n: int) -> float:
    """The ceiling for any scheduler on this loop: the same simulated engine and tool driven by
    the least code that can run the fan-out (one task per sub-agent; each step streams the
    engine's events into a list and calls the tool; no events, accounting, store, limits or
    prompts). What it loses to `ideal` is the simulation's and asyncio's own cost."""
    engine, tool, ctx = SimEngine(n), Noop(), ToolContext()

    async def step(request_id: str) -> list[EngineEvent]:
        return [event async for event in engine.stream(ChatRequest([], request_id=request_id))]

    async def task(i: int) -> None:
        for k in range(STEPS):
            await step(f"r/w/t{i}/{k}")
            if k < STEPS - 1:
                await tool.call({}, ctx)

    t0 = time.perf_counter()
    await step("r/orchestrator/0/0")
    async with asyncio.TaskGroup() as tg:
        for i in range(n):
            tg.create_task(task(i))
    await step("r/orchestrator/0/1")
    return time.perf_counter() - t0


async def peer(n: int) -> float | None:
    """Median of a few peer runs (one at N ≥ 256: they take seconds to minutes); None: too slow."""
    runs = REPEATS if n < 256 else 1
    times = []
    for _ in range(runs):
        with suppress(TimeoutError):
            async with asyncio.timeout(PEER_CAP_S):
                times.append(await peer_once(n, LATENCY_S, STEPS))
    return statistics.median(times) if times else None


async def row(n: int) -> dict[str, Any]:
    runs = [await swarm_once(n, n) for _ in range(REPEATS)]
    wall = statistics.median(r.wall_s for r in runs)
    ideal = runs[0].critical_steps * LATENCY_S
    steps = runs[0].total_steps
    bare = statistics.median([await bare_once(n) for _ in range(REPEATS)])
    bare_loop = statistics.median([await bare_loop_once(n) for _ in range(REPEATS)])
    sequential = (await swarm_once(n, 1)).wall_s if n <= SEQUENTIAL_MAX_N else None
    peer_s = await peer(n)
    return {
        "critical_steps": runs[0].critical_steps,
        "ideal_s": round(ideal, 4),
        "swarm_s": round(wall, 4),
        "swarm_best_s": round(min(r.wall_s for r in runs), 4),
        "sequential_s": None if sequential is None else round(sequential, 4),
        "peer_s": None if peer_s is None else round(peer_s, 4),
        "efficiency": round(ideal / wall, 4),
        "floor_efficiency": round(ideal / bare, 4),
        "bare_loop_efficiency": round(ideal / bare_loop, 4),
        "peer_efficiency": None if peer_s is None else round(ideal / peer_s, 4),
        "speedup_vs_sequential": None if sequential is None else round(sequential / wall, 2),
        "ratio_vs_peer": None if peer_s is None else round(peer_s / wall, 4),
        "loop_us_per_step": round(1e6 * statistics.median(r.loop_cpu_s for r in runs) / steps, 1),
        "process_us_per_step": round(
            1e6 * statistics.median(r.process_cpu_s for r in runs) / steps, 1
        ),
    }


def memory(library: str, n: int) -> dict[str, float]:
    """KiB per concurrent sub-agent, measured in a fresh interpreter (see `_memory_child`)."""
    out = subprocess.run(
        [sys.executable, __file__, "--memory", library, str(n)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {k: round(v / n / 1024, 1) for k, v in json.loads(out.splitlines()[-1]).items()}


class RssPeak:
    """Samples this process's resident set every millisecond on a thread; keeps the peak."""

    def __init__(self) -> None:
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def now() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, self.now())

    def __enter__(self) -> RssPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def _memory_child(library: str, n: int) -> None:
    async def once(k: int) -> None:
        if library == "swarm":
            await swarm_once(k, k)
        else:
            await peer_once(k, LATENCY_S, STEPS)

    await once(8)  # imports, caches, first-use allocations
    gc.collect()
    before = RssPeak.now()
    with RssPeak() as rss:
        await once(n)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    await once(n)
    traced = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    print(json.dumps({"rss": rss.peak - before, "traced": traced}))


def event_loop() -> tuple[Any, str]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run, "asyncio"
    return uvloop.run, f"uvloop {metadata.version('uvloop')}"


async def main(loop_name: str) -> None:
    await swarm_once(8, 8)  # imports and first-use caches, as a server has them after start-up
    settle_heap()  # the server's garbage-collector settings once it is up (server/boot/heap.py)
    rows: dict[str, dict[str, Any]] = {}
    for n in NS:
        rows[str(n)] = await row(n)
        print(f"N={n:4d} k={STEPS}: {rows[str(n)]}", flush=True)
    # The peer's memory at 256: at 1024 its two measuring runs would take ~10 minutes.
    mem = {"swarm": memory("swarm", NS[-1]), "peer": memory("peer", 256)}
    eff = {n: r["efficiency"] for n, r in rows.items()}
    result = {
        "claim": "swarm scheduler overhead vs ideal critical path, sequential and a peer library",
        "latency_s": LATENCY_S,
        "k": STEPS,
        "loop": loop_name,
        "peer": f"openai-agents {metadata.version('openai-agents')}",
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "rows": rows,
        "efficiency": eff,
        "floor_efficiency": {n: r["floor_efficiency"] for n, r in rows.items()},
        "bare_loop_efficiency": {n: r["bare_loop_efficiency"] for n, r in rows.items()},
        "loop_us_per_step": {n: r["loop_us_per_step"] for n, r in rows.items()},
        "speedup_vs_sequential": {n: r["speedup_vs_sequential"] for n, r in rows.items()},
        "ratio_vs_peer": {n: r["ratio_vs_peer"] for n, r in rows.items()},
        "kib_per_subagent": {f"{lib}_{k}": v for lib, m in mem.items() for k, v in m.items()},
        "memory_n": {"swarm": NS[-1], "peer": 256},
        "goals_met": eff["256"] >= 0.95 and eff["1024"] >= 0.90,
        "ratio": rows["256"]["ratio_vs_peer"],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    run, name = event_loop()
    if sys.argv[1:2] == ["--memory"]:
        run(_memory_child(sys.argv[2], int(sys.argv[3])))
    else:
        run(main(name))
