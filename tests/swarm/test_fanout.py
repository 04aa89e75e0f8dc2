"""Fan-out, call order, concurrency bound, CriticalSteps and context sharding."""

from __future__ import annotations

from swarm.engine import ChatRequest
from swarm.limits import SwarmLimits
from tests.fakes.scripted_engine import Step, call, calls, say
from tests.swarm.conftest import make_harness, task_text, tool_messages

WORKER = {"name": "worker", "system_prompt": "Answer briefly.", "tools": []}


def echo(request: ChatRequest, turn: int) -> Step:
    return say(f"answer to <{task_text(request)}>")


async def test_fifty_tasks_fan_out_bounded_and_in_call_order() -> None:
    n = 50
    orchestrator = [
        call("create_subagent", WORKER),
        calls(*[("assign_task", {"agent": "worker", "task": f"item {i}"}) for i in range(n)]),
        say("all done"),
    ]
    h = make_harness(
        {"orchestrator": orchestrator, "worker": echo},
        latency_s=0.01,
        limits=SwarmLimits(max_concurrent=8),
    )
    out = await h.run()

    assert out.content == "all done"
    final_request = h.engine.requests_for("orchestrator")[-1]
    results = [m["content"] for m in tool_messages(final_request)][1:]  # [0]: create_subagent
    assert results == [f"answer to <item {i}>" for i in range(n)]
    assert h.engine.peak_active <= 8
    assert h.engine.peak_active > 1
    # stages: create (1) + fan-out (1 + 1) + answer (1)
    assert out.summary.critical_steps == 4
    assert out.summary.total_steps == 3 + n
    assert out.summary.ratio == (3 + n) / 4
    assert [a["status"] for a in out.summary.agents[1:]] == ["completed"] * n


async def test_context_sharding_orchestrator_sees_final_answers_only() -> None:
    researcher = {"name": "calc", "system_prompt": "Use add.", "tools": ["add"]}
    sub = [call("add", {"a": 20, "b": 22}), say("The sum is 42 (secret-intermediate-free).")]
    orchestrator = [
        call("create_subagent", researcher),
        call("assign_task", {"agent": "calc", "task": "add 20 and 22"}),
        say("42"),
    ]
    h = make_harness({"orchestrator": orchestrator, "calc": sub})
    await h.run()

    sub_second = h.engine.requests_for("calc")[1]
    assert tool_messages(sub_second)[0]["content"] == "42"  # the sub-agent saw its tool output
    final = h.engine.requests_for("orchestrator")[-1]
    texts = [str(m.get("content")) for m in final.messages]
    assert "The sum is 42 (secret-intermediate-free)." in texts
    names = [c["function"]["name"] for m in final.messages for c in m.get("tool_calls") or []]
    assert names == ["create_subagent", "assign_task"]
    assert not any(m["role"] == "tool" and m["content"] == "42" for m in final.messages)
    # each sub-agent starts from a fresh context: its system prompt and its task only
    first = h.engine.requests_for("calc")[0]
    assert [m["role"] for m in first.messages] == ["system", "user"]
    assert "Use add." in first.messages[0]["content"]


async def test_sub_agents_never_get_swarm_tools() -> None:
    orchestrator = [
        call("create_subagent", {"name": "w", "system_prompt": "p", "tools": ["add"]}),
        call("assign_task", {"agent": "w", "task": "t"}),
        say("ok"),
    ]
    h = make_harness({"orchestrator": orchestrator, "w": [say("a long enough answer")]})
    await h.run()
    offered = {t["function"]["name"] for t in h.engine.requests_for("w")[0].tools or []}
    assert offered == {"add"}


async def test_metrics_count_runs_and_sub_agents() -> None:
    from prometheus_client import REGISTRY

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (value("swarm_subagents_spawned_total"), value("swarm_runs_total", status="completed"))
    orchestrator = [
        call("create_subagent", WORKER),
        calls(*[("assign_task", {"agent": "worker", "task": f"x{i}"}) for i in range(3)]),
        say("ok"),
    ]
    h = make_harness({"orchestrator": orchestrator, "worker": echo})
    await h.run()
    assert value("swarm_subagents_spawned_total") == before[0] + 3
    assert value("swarm_runs_total", status="completed") == before[1] + 1
    assert value("swarm_queue_depth") == 0 and value("swarm_active_subagents") == 0
