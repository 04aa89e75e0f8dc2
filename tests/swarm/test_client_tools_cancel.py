"""Client-tool pass-through and resume; cancellation by the consumer and by `cancel()`."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import pytest

from swarm.engine import ChatRequest, Delta
from swarm.errors import InvalidRequest
from swarm.events import SwarmEvent
from tests.fakes.scripted_engine import call, calls, say
from tests.swarm.conftest import make_harness, tool_messages

WORKER = {"name": "w", "system_prompt": "p", "tools": ["sleep"]}
WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
}


async def test_client_tool_pauses_the_run_and_resumes_with_its_results() -> None:
    orchestrator = [
        call("create_subagent", {"name": "w", "system_prompt": "p"}),
        calls(
            ("assign_task", {"agent": "w", "task": "research"}), ("get_weather", {"city": "Paris"})
        ),
        say("sunny, and research says hi"),
    ]
    h = make_harness({"orchestrator": orchestrator, "w": [say("research says hi")]})
    first = await h.run(tools=[WEATHER])

    tool_deltas = [tc for d in first.deltas for tc in d.tool_calls]
    assert [tc.name for tc in tool_deltas] == ["get_weather"]
    assert first.deltas[-1].finish_reason == "tool_calls"
    assert first.summary.status == "requires_action"
    assert first.summary.agents[0]["status"] == "requires_action"  # the paused orchestrator
    run_id = first.summary.run_id
    call_id = tool_deltas[0].id
    assert call_id is not None and run_id in call_id

    messages = [
        {"role": "user", "content": "question"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": "sunny"},
    ]
    second = await h.run(messages=messages, tools=[WEATHER])
    assert second.summary.run_id == run_id
    assert second.content == "sunny, and research says hi"
    assert second.events[0].data["resumed"] is True
    assert second.events[0].sequence_number == first.events[-1].sequence_number + 1
    resumed_request = h.engine.requests_for("orchestrator")[-1]
    assert [m["content"] for m in tool_messages(resumed_request)][1:] == [
        "research says hi",
        "sunny",
    ]
    assert len(h.engine.requests_for("w")) == 1  # the finished sub-agent result was kept
    assert second.summary.total_steps == 4
    assert (await h.service.store.get(run_id))["status"] == "completed"  # type: ignore[index]


async def test_consumer_closing_aborts_every_engine_request() -> None:
    orchestrator = [
        call("create_subagent", WORKER),
        calls(*[("assign_task", {"agent": "w", "task": f"t{i}"}) for i in range(6)]),
    ]
    worker = [say("thinking...", hang=True)]
    h = make_harness({"orchestrator": orchestrator, "w": worker})
    request = ChatRequest(messages=[{"role": "user", "content": "q"}])
    started = 0
    async with aclosing(h.service.run(request, h.opts(max_concurrent=4))) as stream:
        async for item in stream:
            if isinstance(item, SwarmEvent) and item.type == "task.started":
                started += 1
                if started == 4:
                    await asyncio.sleep(0.05)  # let all four reach the engine
                    break
    assert h.engine.active == 0
    assert len([r for r in h.engine.aborted if "/w/" in r]) == 4
    run_id = item.run_id
    record = await h.service.store.get(run_id)
    assert record is not None and record["status"] == "cancelled"
    events = await h.service.store.events(run_id)
    assert events[-1]["type"] == "run.failed" and events[-1]["data"]["status"] == "cancelled"
    cancelled = [e for e in events if e["type"] == "task.completed"]
    assert {e["data"]["status"] for e in cancelled} == {"cancelled"} and len(cancelled) == 6


async def test_cancel_endpoint_seam_stops_a_live_run() -> None:
    orchestrator = [
        call("create_subagent", WORKER),
        calls(("assign_task", {"agent": "w", "task": "x"})),
    ]
    h = make_harness({"orchestrator": orchestrator, "w": [call("sleep", {"s": 60})]})
    request = ChatRequest(messages=[{"role": "user", "content": "q"}])
    items: list[object] = []
    async with aclosing(h.service.run(request, h.opts())) as stream:
        async for item in stream:
            items.append(item)
            if isinstance(item, SwarmEvent) and item.type == "tool.called":
                assert await h.service.cancel(item.run_id) is True
    assert items[-1].status == "cancelled"  # type: ignore[attr-defined]
    assert isinstance(items[-3], Delta) and items[-3].finish_reason == "stop"
    assert await h.service.cancel(items[0].run_id) is False  # type: ignore[attr-defined]


async def test_resume_of_an_unknown_run_is_a_client_error() -> None:
    h = make_harness({"orchestrator": [say("x")]})
    with pytest.raises(InvalidRequest) as info:
        await h.run(run_id="run_000000000000000000000000")
    assert info.value.param == "swarm.run_id"


async def test_attachments_show_the_requests_media_to_a_sub_agent() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K"}}
    orchestrator = [
        call("create_subagent", {"name": "w", "system_prompt": "p"}),
        calls(
            ("assign_task", {"agent": "w", "task": "describe", "attachments": ["image:0"]}),
            ("assign_task", {"agent": "w", "task": "bad", "attachments": ["image:3"]}),
        ),
        say("ok"),
    ]
    h = make_harness({"orchestrator": orchestrator, "w": [say("a red square, clearly")]})
    messages = [{"role": "user", "content": [{"type": "text", "text": "look"}, image]}]
    await h.run(messages=messages)
    (w,) = h.engine.requests_for("w")
    assert w.messages[1]["content"] == [{"type": "text", "text": "describe"}, image]
    results = tool_messages(h.engine.requests_for("orchestrator")[-1])
    assert "bad attachment 'image:3'" in results[2]["content"]
