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
    latencies: list[float] = []
    ok = 0
    gate = asyncio.Semaphore(concurrency)
    # Idle connections expire before the server's keep-alive (5 s) closes them under us.
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2
    )

    async with httpx.AsyncClient(base_url=live.url, timeout=120, limits=limits) as client:

        async def one() -> None:
            nonlocal ok
            async with gate:
                t0 = time.perf_counter()
                out = await stream_run(client, swarm_body())
                latencies.append(time.perf_counter() - t0)
                ok += out.done and not out.errors

        start = time.perf_counter()
        async with asyncio.TaskGroup() as tg:
            for _ in range(runs):
                tg.create_task(one())
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
