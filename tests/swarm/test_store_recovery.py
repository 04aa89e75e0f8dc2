"""The store never blocks the event loop; a crashed run is resumed without re-running finished tasks."""

from __future__ import annotations

import asyncio
import threading
from contextlib import aclosing
from pathlib import Path
from typing import Any

from swarm.engine import ChatRequest
from swarm.events import SwarmEvent
from swarm.sqlstore import SqlStore
from tests.fakes.scripted_engine import call, calls, say
from tests.swarm.conftest import make_harness


class GatedStore(SqlStore):
    """Every database call waits for a gate that only the event loop opens."""

    def __init__(self, spec: str) -> None:
        super().__init__(spec)
        self.gate = threading.Event()

    def _run(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        # On the loop's own thread this wait could never end: the loop could not open the gate.
        assert self.gate.wait(10), "a store read ran on the event loop"
        return super()._run(sql, args)


async def test_store_reads_run_off_the_event_loop() -> None:
    store = GatedStore(":memory:")

    async def open_gate() -> None:
        await asyncio.sleep(0)
        store.gate.set()

    async with asyncio.TaskGroup() as tg:
        tg.create_task(open_gate())
        reads = [store.get("r"), store.events("r"), store.list(), store.results("r")]
        assert await asyncio.gather(*reads) == [None, [], [], {}]
    store.close()


WORKER = {"name": "w", "system_prompt": "p", "tools": ["sleep"]}
ORCH = [
    call("create_subagent", WORKER),
    calls(*[("assign_task", {"agent": "w", "task": t}) for t in ("fast", "slow", "fast2")]),
    say("all done"),
]


def make_worker() -> Any:
    """`slow` sleeps (in a tool) on its first attempt only; the others answer at once."""
    attempts: list[str] = []

    def worker(request: ChatRequest, turn: int) -> Any:
        task = request.messages[1]["content"]
        attempts.append(task)
        if task == "slow" and turn == 0 and attempts.count("slow") == 1:
            return call("sleep", {"s": 3600})
        return say(f"answer to {task}")

    return worker


async def test_a_run_cut_off_by_a_crash_resumes_only_its_unfinished_tasks(tmp_path: Path) -> None:
    path = str(tmp_path / "runs.sqlite3")
    crashed = SqlStore(path, lease_s=0.2)
    worker = make_worker()
    first = make_harness({"orchestrator": ORCH, "w": worker}, store=crashed)
    request = ChatRequest(messages=[{"role": "user", "content": "q"}])
    done = 0
    async with aclosing(first.service.run(request, first.opts())) as stream:
        async for item in stream:
            if isinstance(item, SwarmEvent) and item.type == "task.completed":
                done += 1
            if done == 2:  # fast and fast2 finished; slow sleeps
                await crashed.flush()
                crashed.close()  # the process "dies": nothing more reaches the database
                run_id = item.run_id
                break
    assert len(first.engine.requests_for("w")) == 3

    restarted = SqlStore(path, lease_s=0.2)  # its first lease sweep finds the dead run
    await asyncio.sleep(0.5)
    await restarted.flush()
    record = await restarted.get(run_id)
    assert record is not None and record["status"] == "interrupted"
    second = make_harness({"orchestrator": ORCH, "w": worker}, store=restarted)
    out = await second.run(run_id=run_id)
    assert out.content == "all done"
    tasks = [r.messages[1]["content"] for r in second.engine.requests_for("w")]
    assert tasks == ["slow"]  # the two finished tasks were not run again
    results = [
        m["content"]
        for m in second.engine.requests_for("orchestrator")[-1].messages
        if m["role"] == "tool"
    ][1:]
    assert results == ["answer to fast", "answer to slow", "answer to fast2"]
    events = await restarted.events(run_id)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["data"]["status"] for e in events if e["type"] == "run.failed"] == ["interrupted"]
    # create, then the stage (1 + the re-run task's one step), then the answer
    assert out.summary.critical_steps == 1 + (1 + 1) + 1
    restarted.close()
