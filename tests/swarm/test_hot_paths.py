"""The swarm's per-step shortcuts keep their meaning: the ledger's running usage total,
events batched per loop iteration into the store (order kept), the JSON codec."""

from __future__ import annotations

import json
import math
import sqlite3
from contextlib import aclosing, closing
from pathlib import Path

from swarm import codec
from swarm.bus import events_topic
from swarm.engine import ChatRequest, ModelInfo, Usage
from swarm.events import SwarmEvent
from swarm.ledger import AgentStats, Ledger
from swarm.store import open_store
from tests.fakes.scripted_engine import call, calls, say
from tests.swarm.conftest import make_harness
from tests.swarm.test_events_store import CALC, ORCH
from tools.base import Json


def _sum(ledger: Ledger) -> tuple[int, int, int]:
    u = Usage()
    for a in ledger.agents.values():
        u += a.usage
    return u.prompt_tokens, u.completion_tokens, u.reasoning_tokens


def _tuple(u: Usage) -> tuple[int, int, int]:
    return u.prompt_tokens, u.completion_tokens, u.reasoning_tokens


def test_ledger_usage_total_follows_every_way_agents_change() -> None:
    ledger = Ledger()
    ledger.agent("orchestrator", "orchestrator")
    ledger.record_step("orchestrator", Usage(10, 2))
    for i in range(5):
        ledger.agent(f"t{i}", "w", f"t{i}")
        assert _tuple(ledger.usage()) == _sum(ledger)
        ledger.record_step(f"t{i}", Usage(3, 1, 1))
    assert _tuple(ledger.usage()) == _sum(ledger) == (25, 7, 5)
    ledger.agents["t9"] = AgentStats("w", "t9", 1, Usage(100, 50))  # as a resume does
    assert _tuple(ledger.usage()) == _sum(ledger) == (125, 57, 5)
    restored = Ledger.from_dict(ledger.to_dict())
    restored.record_step("t0", Usage(1, 1))
    assert _tuple(restored.usage()) == (126, 58, 0)  # reasoning tokens are not stored


def test_ledger_usage_is_a_copy() -> None:
    ledger = Ledger()
    ledger.agent("a", "a")
    base = ledger.usage()
    ledger.record_step("a", Usage(5, 5))
    assert _tuple(base) == (0, 0, 0)
    assert _tuple(ledger.usage()) == (5, 5, 0)


def _event(run_id: str, seq: int) -> dict[str, object]:
    return {"type": "agent.step", "sequence_number": seq, "run_id": run_id, "data": {}}


def _stored(store: object) -> list[int]:
    rows = store._conn.execute("SELECT seq FROM events WHERE run_id='r' ORDER BY seq")  # type: ignore[attr-defined]
    return [r[0] for r in rows.fetchall()]


async def test_events_of_one_iteration_reach_the_store_before_a_later_write() -> None:
    store = open_store(":memory:")
    try:
        for seq in range(50):  # one loop iteration: buffered, not yet sent
            store.put_events("r", [_event("r", seq)])
        # Waited on without yielding to the loop: the buffered events must go first.
        store.put_run("r", "running", {"run_id": "r"}, None, wait=True).result()  # type: ignore[union-attr]
        assert _stored(store) == list(range(50))
        store.put_events("r", [_event("r", 50)])
        await store.flush()  # a flush sends what is buffered first
        assert _stored(store)[-1] == 50
        assert [e["sequence_number"] for e in await store.events("r")] == list(range(51))
    finally:
        store.close()


def test_events_put_outside_a_loop_are_written() -> None:
    store = open_store(":memory:")
    try:
        store.put_events("r", [_event("r", 0)])
        store.put_run("r", "running", {"run_id": "r"}, None, wait=True).result()  # type: ignore[union-attr]
        assert _stored(store) == [0]
    finally:
        store.close()


def test_codec_matches_the_standard_library_on_our_values() -> None:
    value = {
        "type": "agent.step",
        "n": 3,
        "x": 0.1,
        "ok": True,
        "none": None,
        "text": 'é ☃ \u2028 "quoted" \\ \n',
        "list": [1, "a", {"b": []}],
    }
    assert codec.dumps(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert codec.loads(codec.dumpb(value)) == value
    assert codec.dumps({"nan": math.nan}) == '{"nan":null}'


async def test_a_budget_larger_than_the_context_leaves_max_tokens_unset() -> None:
    worker = {"name": "w", "system_prompt": "p", "tools": ["add"]}
    orchestrator = [call("create_subagent", worker),
                    calls(("assign_task", {"agent": "w", "task": "t"})), say("end")]  # fmt: skip
    h = make_harness({"orchestrator": orchestrator, "w": [say("long enough answer")]})
    h.engine._info = ModelInfo(name="kimi-test", max_model_len=1000)
    await h.run(token_budget=1010)  # each scripted call uses 15 tokens
    assert [r.sampling.max_tokens for r in h.engine.requests] == [None, 995, 980, 965]


async def test_a_task_result_is_stored_by_the_time_its_completion_is_heard(tmp_path: Path) -> None:
    """Tasks no longer wait for their result's commit one by one: the writer's order alone
    must make every result that a resume would skip readable once `task.completed` is heard
    (the bus hears only committed events)."""
    path = tmp_path / "runs.sqlite3"
    h = make_harness({"orchestrator": ORCH, "calc": CALC}, store=open_store(str(path)))
    heard: list[tuple[str, bool]] = []

    def listener(events: list[Json]) -> None:
        with closing(sqlite3.connect(path)) as db:  # another connection: committed rows only
            stored = {t for (t,) in db.execute("SELECT task_id FROM results")}
        heard.extend(
            (e["task"], e["task"] in stored) for e in events if e["type"] == "task.completed"
        )

    request = ChatRequest(messages=[{"role": "user", "content": "q"}])
    async with aclosing(h.service.run(request, h.opts())) as stream:
        first = await anext(stream)
        assert isinstance(first, SwarmEvent)
        with h.service.store.bus.listen(events_topic(first.run_id), listener):
            async for _ in stream:
                pass
            await h.service.store.flush()
    assert sorted(heard) == [("t1", True), ("t2", True)]
