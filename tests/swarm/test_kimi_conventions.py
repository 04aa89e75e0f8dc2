"""Kimi K2.5 conventions: `functions.{name}:{idx}` tool-call ids; reasoning kept across turns.

Kimi's tool parser reads ids of the form `functions.{name}:{idx}` (idx counts the tool calls
of the conversation), and Moonshot's thinking-model guide asks that `reasoning_content` stay
in the context of multi-step tool calls.
"""

from __future__ import annotations

from tests.fakes.scripted_engine import Step, call, calls, say
from tests.swarm.conftest import make_harness, tool_messages

WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
}


async def test_ids_the_engine_left_out_follow_kimis_format() -> None:
    orchestrator = [
        Step(calls=call("create_subagent", {"name": "w", "system_prompt": "p", "tools": ["add"]}).calls,
             call_ids=[""]),
        call("assign_task", {"agent": "w", "task": "add"}),
        say("done"),
    ]  # fmt: skip
    worker = [
        Step(calls=calls(("add", {"a": 1, "b": 2}), ("add", {"a": 2, "b": 2})).calls,
             call_ids=["", ""], reasoning="I should add both pairs."),
        say("3 and 4", reasoning="Both sums are known."),
    ]  # fmt: skip
    h = make_harness({"orchestrator": orchestrator, "w": worker}, model="kimi-k2.5")
    await h.run()

    first = h.engine.requests_for("orchestrator")[1].messages
    assert [tc["id"] for m in first for tc in m.get("tool_calls") or []] == [
        "functions.create_subagent:0"
    ]
    second = h.engine.requests_for("w")[1].messages
    (turn,) = [m for m in second if m.get("tool_calls")]
    assert [tc["id"] for tc in turn["tool_calls"]] == ["functions.add:0", "functions.add:1"]
    assert [m["tool_call_id"] for m in tool_messages(h.engine.requests_for("w")[1])] == [
        "functions.add:0",
        "functions.add:1",
    ]
    assert turn["reasoning_content"] == "I should add both pairs."  # kept across the turn


async def test_other_models_keep_openai_style_ids() -> None:
    orchestrator = [
        Step(calls=call("create_subagent", {"name": "w", "system_prompt": "p"}).calls,
             call_ids=[""]),
        say("done"),
    ]  # fmt: skip
    h = make_harness({"orchestrator": orchestrator}, model="qwen3")
    await h.run()
    history = h.engine.requests_for("orchestrator")[1].messages
    assert [tc["id"] for m in history for tc in m.get("tool_calls") or []] == ["call_0"]


async def test_kimi_history_keeps_its_own_ids_for_client_tools() -> None:
    orchestrator = [
        Step(calls=call("get_weather", {"city": "Paris"}).calls, call_ids=["functions.get_weather:0"]),
        say("It is sunny."),
    ]  # fmt: skip
    h = make_harness({"orchestrator": orchestrator}, model="kimi-k2.5")
    first = await h.run(tools=[WEATHER])
    (client_call,) = [tc for d in first.deltas for tc in d.tool_calls]
    run_id = first.summary.run_id
    assert client_call.id is not None and run_id in client_call.id  # the client's id resumes

    messages = [
        {"role": "user", "content": "question"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": client_call.id, "type": "function",
                            "function": {"name": "get_weather", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": client_call.id, "content": "sunny"},
    ]  # fmt: skip
    second = await h.run(messages=messages, tools=[WEATHER])
    assert second.summary.run_id == run_id and second.content == "It is sunny."
    history = h.engine.requests_for("orchestrator")[-1].messages
    assert [tc["id"] for m in history for tc in m.get("tool_calls") or []] == [
        "functions.get_weather:0"
    ]
    assert [
        m["tool_call_id"] for m in tool_messages(h.engine.requests_for("orchestrator")[-1])
    ] == ["functions.get_weather:0"]
