"""Following a run: no event lost when the run ends as a follower attaches; O(new) per wake-up."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from pathlib import Path

from swarm.engine import ChatRequest
from swarm.events import SwarmEvent
from swarm.follow import follow
from swarm.sqlstore import SqlStore
from swarm.store import Rows
from tests.swarm.conftest import make_harness
from tests.swarm.test_events_store import CALC, ORCH
from tools.base import Json


class CountingStore(SqlStore):
    """The SQLite store, counting the event rows each read hands back."""

    def __init__(self, spec: str) -> None:
        super().__init__(spec)
        self.rows_read: list[int] = []

    async def events(self, run_id: str, *, after: int = -1, limit: int | None = None) -> Rows:
        rows = await super().events(run_id, after=after, limit=limit)
        self.rows_read.append(len(rows))
        return rows


def event(run_id: str, seq: int, type: str = "agent.step") -> Json:
    return {"type": type, "sequence_number": seq, "run_id": run_id, "time": 0.0, "data": {}}


async def test_a_follower_attached_while_the_run_ends_gets_every_event() -> None:
    h = make_harness({"orchestrator": ORCH, "calc": CALC}, latency_s=0.01)
    request = ChatRequest(messages=[{"role": "user", "content": "q"}])
    async with aclosing(h.service.run(request, h.opts())) as stream:
        first = await anext(stream)
        assert isinstance(first, SwarmEvent)
        follower = h.service.follow(first.run_id)
        got = [await anext(follower)]  # attached; then it idles while the run finishes
        emitted = [first, *[i async for i in stream if isinstance(i, SwarmEvent)]]
    got += [e async for e in follower]
    assert [e["sequence_number"] for e in got] == [e.sequence_number for e in emitted]
    assert [e["sequence_number"] for e in got] == list(range(20))
    assert got[-1]["type"] == "run.completed"


async def test_a_follower_of_a_finished_run_reads_the_store_and_ends() -> None:
    h = make_harness({"orchestrator": ORCH, "calc": CALC})
    out = await h.run()
    got = [e async for e in h.service.follow(out.summary.run_id, after=10)]
    assert [e["sequence_number"] for e in got] == list(range(11, 20))


async def test_each_wake_up_handles_only_new_events(tmp_path: Path) -> None:
    store = CountingStore(str(tmp_path / "runs.sqlite3"))
    history = 5000
    store.put_events("r", [event("r", i) for i in range(history)])
    await store.flush()
    seen: list[int] = []
    woke = asyncio.Event()

    async def follower() -> None:
        async for e in follow(store, "r", idle_s=60):
            seen.append(e["sequence_number"])
            woke.set()

    async with asyncio.TaskGroup() as tg:
        tg.create_task(follower())
        while len(seen) < history:
            await woke.wait()
            woke.clear()
        for seq in range(history, history + 20):  # one event per wake-up
            store.put_events("r", [event("r", seq)])
            await woke.wait()
            woke.clear()
            assert seen[-1] == seq
        store.put_events("r", [event("r", history + 20, "run.completed")])
    store.close()
    assert seen == list(range(history + 21))
    # One read of the history when it attached; every later event came by the bus, read once.
    assert store.rows_read == [history]
