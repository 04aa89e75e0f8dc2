"""The run store on a real PostgreSQL: two stores in one process stand for two replicas.

Each store has its own connections, writer thread, NOTIFY listener and bus, as a replica does.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pytest

from swarm.follow import follow
from swarm.limits import SwarmLimits
from swarm.migrations import LATEST
from swarm.service import SwarmService
from swarm.sqlstore import SqlStore
from swarm.store import open_store
from tests.fakes.scripted_engine import ScriptedEngine, call, calls, say
from tests.swarm.conftest import SleepTool
from tools.base import Json, ToolRegistry


def event(run_id: str, seq: int, type: str = "agent.step") -> Json:
    return {"type": type, "sequence_number": seq, "run_id": run_id, "time": 0.0, "data": {}}


@asynccontextmanager
async def replicas(url: str, *, lease_s: float = 10.0) -> AsyncIterator[tuple[SqlStore, SqlStore]]:
    a = await asyncio.to_thread(SqlStore, url, lease_s=lease_s)
    b = await asyncio.to_thread(SqlStore, url, lease_s=lease_s)
    try:
        yield a, b
    finally:
        await asyncio.to_thread(a.close)
        await asyncio.to_thread(b.close)


async def test_migrations_are_versioned_and_run_once(pg_url: str) -> None:
    async with replicas(pg_url) as (a, b):
        assert a.migrated == list(range(1, LATEST + 1)) and b.migrated == []
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == list(range(1, LATEST + 1))


async def test_a_store_from_before_versioning_upgrades_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # the schema the store had before migrations
        db.executescript(
            "CREATE TABLE runs (id TEXT PRIMARY KEY, created REAL NOT NULL, updated REAL NOT NULL,"
            " status TEXT NOT NULL, record TEXT NOT NULL, state TEXT);"
            "CREATE TABLE events (run_id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,"
            " PRIMARY KEY (run_id, seq));"
            "INSERT INTO runs VALUES ('run_old', 1, 2, 'completed', '{\"output\": \"hi\"}', NULL);"
        )
    store = SqlStore(str(path))
    assert store.migrated == list(range(1, LATEST + 1))
    record = await store.get("run_old")
    assert record is not None and record["output"] == "hi" and record["status"] == "completed"
    store.close()
    assert SqlStore(str(path)).migrated == []


async def test_events_written_on_one_replica_reach_a_follower_on_the_other(pg_url: str) -> None:
    async with replicas(pg_url) as (a, b):
        a.put_run("r", "running", {}, None)
        a.put_events("r", [event("r", 0, "run.started")])
        await a.flush()
        seen: list[int] = []
        attached = asyncio.Event()

        async def follower() -> None:
            async for e in follow(b, "r", idle_s=30):
                seen.append(e["sequence_number"])
                attached.set()

        async with asyncio.TaskGroup() as tg:
            tg.create_task(follower())
            await attached.wait()
            for seq in range(1, 30):
                a.put_events("r", [event("r", seq)])
                await asyncio.sleep(0.005)
            a.put_events("r", [event("r", 30, "run.completed")])
    assert seen == list(range(31))


async def test_a_run_whose_replica_stops_renewing_its_lease_is_interrupted(pg_url: str) -> None:
    async with replicas(pg_url, lease_s=0.5) as (a, b):
        dead = await asyncio.to_thread(SqlStore, pg_url, lease_s=0.5)
        dead.put_run("r", "running", {}, {"x": 1})
        dead.put_events("r", [event("r", 0, "run.started")])
        await dead.flush()
        await asyncio.to_thread(dead.close)  # stops renewing, as a killed process does
        async with asyncio.timeout(30):
            followed = [e async for e in follow(b, "r", idle_s=30)]
        assert followed[-1]["type"] == "run.failed"
        assert followed[-1]["data"]["status"] == "interrupted"
        assert followed[-1]["sequence_number"] == 1
        record = await a.get("r")
        assert record is not None and record["status"] == "interrupted"
        assert await a.claim("r", ("interrupted",)) and not await b.claim("r", ("interrupted",))


ORCH = [
    call("create_subagent", {"name": "w", "system_prompt": "p", "tools": ["sleep"]}),
    calls(
        ("assign_task", {"agent": "w", "task": "A"}), ("assign_task", {"agent": "w", "task": "B"})
    ),
    say("never reached"),
]


async def test_a_run_driven_on_one_replica_is_followed_and_cancelled_from_the_other(
    pg_url: str,
) -> None:
    engine = ScriptedEngine({"orchestrator": ORCH, "w": [call("sleep", {"s": 3600})]})
    tools = ToolRegistry([SleepTool()])
    async with replicas(pg_url) as (a, b):
        on_a = SwarmService(engine, tools, a, SwarmLimits())
        on_b = SwarmService(engine, tools, b, SwarmLimits())
        seen: list[Json] = []
        started = asyncio.Event()

        async def drive() -> None:
            from swarm.engine import ChatRequest

            request = ChatRequest(messages=[{"role": "user", "content": "q"}])
            async for item in on_a.run(request, on_a.options(None)):
                if getattr(item, "type", None) == "run.started":
                    seen.append({"run_id": item.run_id})  # type: ignore[union-attr]
                    started.set()

        busy = asyncio.Event()  # both sub-agents are in their long tool call

        async def watch(run_id: str) -> list[Json]:
            out: list[Json] = []
            async for e in on_b.follow(run_id):
                out.append(e)
                if sum(x["type"] == "tool.called" for x in out) == 2:
                    busy.set()
            return out

        async with asyncio.TaskGroup() as tg:
            tg.create_task(drive())
            await started.wait()
            run_id = seen[0]["run_id"]
            watched = tg.create_task(watch(run_id))
            await busy.wait()
            assert await on_b.cancel(run_id) is True
        events = watched.result()
        types = [e["type"] for e in events]
        assert types[0] == "run.started" and types.count("task.started") == 2
        assert events[-1]["type"] == "run.failed" and events[-1]["data"]["status"] == "cancelled"
        assert [e["sequence_number"] for e in events] == list(range(len(events)))
        record = await b.get(run_id)
        assert record is not None and record["status"] == "cancelled"
        assert engine.active == 0


@pytest.mark.parametrize("where", ["sqlite", "postgres"])
async def test_both_stores_keep_records_events_and_results(
    where: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = str(tmp_path / "r.sqlite3") if where == "sqlite" else request.getfixturevalue("pg_url")
    store = await asyncio.to_thread(open_store, url, retention_runs=1)
    store.put_run("r1", "completed", {"output": "x"}, {"s": 1})
    store.put_events("r1", [event("r1", i) for i in range(5)])
    written = store.put_result("r1", "t1", {"answer": "a"}, wait=True)
    assert written is not None
    await asyncio.wrap_future(written)
    assert (await store.get("r1") or {})["output"] == "x"
    assert await store.state("r1") == ("completed", {"s": 1})
    assert [e["sequence_number"] for e in await store.events("r1", after=2)] == [3, 4]
    assert await store.last_sequence("r1") == 4 and await store.results("r1") == {
        "t1": {"answer": "a"}
    }
    store.put_run("r2", "completed", {}, None)
    await store.flush()
    assert await store.prune() == 1 and await store.get("r1") is None
    assert [r["run_id"] for r in await store.list()] == ["r2"]
    await asyncio.to_thread(store.close)
