"""Following a run's events: cost per wake-up against history length, and cross-replica latency.

1. O(new): a follower of a run that already has H events (SQLite store) is woken by one new
   event at a time; the time from writing an event to the follower yielding it, at H = 100 and
   H = 8000 (the previous follower rescanned every event per wake-up: 0.57 s at 8k).
   `ratio` = time at 8000 / time at 100 (1.0 means the history costs nothing); the two are
   alternated REPEATS times and the medians compared.
2. Cross-replica (PostgreSQL, when it can be started here): two stores on one database stand for
   two replicas (own connections, writer, NOTIFY listener, bus). Latency from an event's write
   on A to its arrival at a follower on B, against a follower on A itself (the anchor).

Run: python benchmarks/run_store_follow.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from swarm.follow import follow
from swarm.sqlstore import SqlStore

WAKEUPS = 200
REPEATS = 5


def event(run: str, seq: int, type: str = "agent.step") -> dict[str, Any]:
    return {"type": type, "sequence_number": seq, "run_id": run, "time": time.time(), "data": {}}


async def lags(writer: SqlStore, reader: SqlStore, history: int, run: str = "r") -> list[float]:
    """Seconds from writing each of WAKEUPS events on `writer` to a follower on `reader`."""
    writer.put_run(run, "running", {}, None)
    writer.put_events(run, [event(run, i) for i in range(history)])
    await writer.flush()
    arrived: asyncio.Queue[float] = asyncio.Queue()
    out: list[float] = []

    async def follower() -> None:
        async for e in follow(reader, run, history - 1, idle_s=60):
            await arrived.put(time.perf_counter())
            if e["type"] == "run.completed":
                return

    async with asyncio.TaskGroup() as tg:
        tg.create_task(follower())
        await asyncio.sleep(0.2)  # attached
        for i in range(WAKEUPS):
            t0 = time.perf_counter()
            writer.put_events(run, [event(run, history + i)])
            out.append(await arrived.get() - t0)
        writer.put_events(run, [event(run, history + WAKEUPS, "run.completed")])
    return out


def ms(values: list[float]) -> dict[str, float]:
    q = statistics.quantiles(values, n=100)
    return {"p50_ms": round(q[49] * 1000, 2), "p99_ms": round(q[98] * 1000, 2)}


async def o_new() -> dict[str, Any]:
    """Both history lengths, alternated REPEATS times (load drifts); the median p50 and p99."""
    runs: dict[int, list[dict[str, float]]] = {100: [], 8000: []}
    for _ in range(REPEATS):
        for history in runs:
            with tempfile.TemporaryDirectory() as tmp:
                store = SqlStore(str(Path(tmp) / "runs.sqlite3"))
                runs[history].append(ms(await lags(store, store, history)))
                store.close()
    return {
        h: {k: statistics.median(r[k] for r in rs) for k in ("p50_ms", "p99_ms")}
        for h, rs in runs.items()
    }


async def cross_replica() -> dict[str, Any] | str:
    from tests.postgres import start_postgres, unavailable

    why = unavailable()
    if why is not None:
        return why
    pg = start_postgres()
    try:
        a, b = SqlStore(pg.url), SqlStore(pg.url)
        same = ms(await lags(a, a, 100, "same"))
        cross = ms(await lags(a, b, 100, "cross"))
        a.close()
        b.close()
    finally:
        pg.stop()
    return {"same_replica": same, "cross_replica": cross}


async def main() -> None:
    cost = await o_new()
    print(f"follow wake-up at 100 events of history: {cost[100]}; at 8000: {cost[8000]}")
    replicas = await cross_replica()
    print(f"PostgreSQL follow latency: {replicas}")
    result: dict[str, Any] = {
        "wakeup_p50_ms_at_100": cost[100]["p50_ms"],
        "wakeup_p50_ms_at_8000": cost[8000]["p50_ms"],
        "ratio": round(cost[8000]["p50_ms"] / cost[100]["p50_ms"], 3),
    }
    if isinstance(replicas, dict):
        result["pg_same_replica_p50_ms"] = replicas["same_replica"]["p50_ms"]
        result["pg_cross_replica_p50_ms"] = replicas["cross_replica"]["p50_ms"]
        result["pg_cross_replica_p99_ms"] = replicas["cross_replica"]["p99_ms"]
        result["cross_vs_same_ratio"] = round(
            replicas["cross_replica"]["p50_ms"] / replicas["same_replica"]["p50_ms"], 3
        )
    else:
        result["pg_skipped"] = replicas
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
