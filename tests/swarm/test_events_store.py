"""Event order and numbering, a normalised trace tree, the run store and live following."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from pathlib import Path

from swarm.engine import ChatRequest
from swarm.events import SwarmEvent
from swarm.store import open_store
from tests.fakes.scripted_engine import call, calls, say
from tests.swarm.conftest import make_harness
from tools.base import Json

WORKER = {"name": "calc", "system_prompt": "p", "tools": ["add"]}
ORCH = [
    call("create_subagent", WORKER),
    calls(
        ("assign_task", {"agent": "calc", "task": "A"}),
        ("assign_task", {"agent": "calc", "task": "B"}),
    ),
    say("sum done"),
]
CALC = [call("add", {"a": 1, "b": 2}), say("the result is 3")]


def tree(events: list[Json]) -> list[str]:
    """Normalise a trace into an indented tree (tasks grouped, no ids/times)."""
    lines: list[str] = []
    by_task: dict[str, list[str]] = {}
    for e in events:
        label = e["type"] + (f" {e['data']['status']}" if "status" in e["data"] else "")
        if e["type"] == "agent.step":
            label += f" {e['data']['tool_calls']}"
        if e.get("task"):
            by_task.setdefault(e["task"], []).append(label)
            if e["type"] == "task.queued":
                lines.append(f"task {e['task']}")
        else:
            lines.append(label)
    return [
        *lines[:1],
        *(f"  {x}" for x in lines[1:]),
        *(f"{t}: {' > '.join(v)}" for t, v in sorted(by_task.items())),
    ]


async def test_events_are_numbered_in_order_and_form_the_expected_tree() -> None:
    h = make_harness({"orchestrator": ORCH, "calc": CALC})
    out = await h.run()
    events = out.events
    assert out.items[0] is events[0] and events[0].type == "run.started"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert {e.run_id for e in events} == {out.summary.run_id}
    assert events[-1].type == "run.completed"
    assert tree([e.to_dict() for e in events]) == [
        "run.started",
        "  agent.step ['create_subagent']",
        "  agent.created",
        "  agent.step ['assign_task', 'assign_task']",
        "  task t1",
        "  task t2",
        "  agent.step []",
        "  run.completed completed",
        "t1: task.queued > task.started > agent.step ['add'] > tool.called > tool.result"
        " > agent.step [] > task.completed completed",
        "t2: task.queued > task.started > agent.step ['add'] > tool.called > tool.result"
        " > agent.step [] > task.completed completed",
    ]
    # the usage and summary close the stream, after the final deltas
    assert out.items[-2] is not None and out.usage.prompt_tokens == 10 * 7
    assert out.summary.critical_steps == 1 + (1 + 2) + 1


async def test_store_keeps_runs_across_restart_and_prunes(tmp_path: Path) -> None:
    path = str(tmp_path / "runs.sqlite3")
    store = open_store(path, retention_runs=2)
    h = make_harness({"orchestrator": ORCH, "calc": CALC}, store=store)
    run_ids = [(await h.run()).summary.run_id for _ in range(3)]
    store.close()

    reopened = open_store(path, retention_runs=2)
    assert await reopened.get(run_ids[0]) is None  # pruned: only the newest two are kept
    record = await reopened.get(run_ids[2])
    assert record is not None and record["status"] == "completed"
    assert record["output"] == "sum done" and record["critical_steps"] == 5
    assert {r["run_id"] for r in await reopened.list()} == set(run_ids[1:])
    events = await reopened.events(run_ids[2], after=3)
    assert events[0]["sequence_number"] == 4 and events[-1]["type"] == "run.completed"
    reopened.close()


async def test_follow_streams_live_then_ends_and_resumes_after_a_sequence() -> None:
    h = make_harness({"orchestrator": ORCH, "calc": CALC}, latency_s=0.02)
    request = ChatRequest(messages=[{"role": "user", "content": "q"}])
    followed: list[Json] = []

    async def follow(run_id: str) -> None:
        async for event in h.service.follow(run_id, after=2):
            followed.append(event)

    async with aclosing(h.service.run(request, h.opts())) as stream:
        first = await anext(stream)
        assert isinstance(first, SwarmEvent)
        async with asyncio.TaskGroup() as tg:
            tg.create_task(follow(first.run_id))
            async for _ in stream:
                pass
    seqs = [e["sequence_number"] for e in followed]
    assert seqs[0] == 3 and seqs == list(range(3, 3 + len(seqs)))
    assert followed[-1]["type"] == "run.completed"
    after_run = [e async for e in h.service.follow(first.run_id, after=seqs[-2])]
    assert after_run == [followed[-1]]
