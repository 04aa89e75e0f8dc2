"""Load: concurrent swarm runs at rising concurrency on a scripted engine, over real HTTP."""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass

import httpx
import psutil

from tests.reliability.live import Live, stream_run, swarm_body


@dataclass
class LevelReport:
    concurrency: int
    runs: int
    ok: int
    runs_per_s: float
    p50_ms: float
    p99_ms: float


def rss_mb() -> float:
    gc.collect()
    return round(psutil.Process().memory_info().rss / 2**20, 1)


async def level(live: Live, concurrency: int, runs: int) -> LevelReport:
    """`runs` streamed swarm runs, `concurrency` at a time: one client per lane, one run after
    another in each (a shared pool of 64 connections costs the client O(n^2) bookkeeping)."""
    latencies: list[float] = []
    ok = 0
    todo = iter(range(runs))

    async def lane() -> None:
        nonlocal ok
        async with httpx.AsyncClient(base_url=live.url, timeout=120) as client:
            for _ in todo:
                t0 = time.perf_counter()
                out = await stream_run(client, swarm_body())
                latencies.append(time.perf_counter() - t0)
                ok += out.done and not out.errors

    start = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for _ in range(concurrency):
            tg.create_task(lane())
    wall = time.perf_counter() - start
    latencies.sort()
    return LevelReport(
        concurrency=concurrency,
        runs=runs,
        ok=ok,
        runs_per_s=round(runs / wall, 2),
        p50_ms=round(1000 * latencies[len(latencies) // 2], 1),
        p99_ms=round(1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
    )
