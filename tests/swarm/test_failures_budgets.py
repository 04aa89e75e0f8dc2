"""Sub-agent failures, timeouts, malformed calls and budget exhaustion: the run still answers."""

from __future__ import annotations

import pytest

from swarm.errors import EngineUnavailable, InvalidRequest
from swarm.limits import SwarmLimits
from tests.fakes.scripted_engine import Step, call, calls, say
from tests.swarm.conftest import make_harness, tool_messages

TOOLED = {"name": "w", "system_prompt": "p", "tools": ["add", "sleep", "boom"]}


def fan(*tasks: str) -> Step:
    return calls(*[("assign_task", {"agent": "w", "task": t}) for t in tasks])


async def test_failed_and_timed_out_tasks_become_results() -> None:
    def worker(request, turn):  # type: ignore[no-untyped-def]
        task = request.messages[1]["content"]
        if task == "crash":
            return Step(error=EngineUnavailable("backend gone"))
        if task == "hang":
            return Step(content="partial", hang=True)
        return say("fine answer here")

    orchestrator = [call("create_subagent", TOOLED), fan("ok", "crash", "hang"), say("done")]
    no_retry = SwarmLimits(engine_retries=0)  # "backend gone" fails at once (no back-off)
    h = make_harness({"orchestrator": orchestrator, "w": worker}, limits=no_retry)
    out = await h.run(subagent_timeout_s=0.2)

    results = [m["content"] for m in tool_messages(h.engine.requests_for("orchestrator")[-1])][1:]
    assert results[0] == "fine answer here"
    assert results[1].startswith("[failed: EngineUnavailable: backend gone]")
    assert results[2].startswith("[timeout")
    done = [e.data["status"] for e in out.events if e.type == "task.completed"]
    assert sorted(done) == ["completed", "failed", "timeout"]
    assert out.summary.status == "completed"
    statuses = {a["name"] + "/" + a.get("task", ""): a["status"] for a in out.summary.agents}
    assert statuses["orchestrator/"] == "completed"  # the orchestrator ends with its run
    assert any(r.endswith("/w/t3/0") for r in h.engine.aborted)  # the hung stream was aborted


async def test_failing_tool_is_data_for_the_sub_agent() -> None:
    sub = [call("boom"), say("the tool failed, so: no result")]
    orchestrator = [call("create_subagent", TOOLED), fan("try"), say("ok")]
    h = make_harness({"orchestrator": orchestrator, "w": sub})
    out = await h.run()
    (tool_msg,) = tool_messages(h.engine.requests_for("w")[1])
    assert "kaboom" in tool_msg["content"]
    result = next(e for e in out.events if e.type == "tool.result")
    assert result.data["is_error"] is True


async def test_malformed_orchestrator_call_is_fed_back_and_fixed() -> None:
    orchestrator = [
        call("create_subagent", '{"name": "w", "system_prompt": '),  # broken JSON
        call("assign_task", {"agent": "ghost", "task": "x"}),  # unknown agent
        call("create_subagent", TOOLED),
        fan("x"),
        say("fixed"),
    ]
    h = make_harness({"orchestrator": orchestrator, "w": [say("long enough answer")]})
    out = await h.run()
    reqs = h.engine.requests_for("orchestrator")
    assert "not valid JSON" in tool_messages(reqs[1])[0]["content"]
    assert "no sub-agent named 'ghost'" in tool_messages(reqs[2])[1]["content"]
    assert out.content == "fixed"


async def test_malformed_retries_are_bounded() -> None:
    orchestrator = [call("assign_task", {"agent": "ghost", "task": "x"})]  # repeats forever
    h = make_harness({"orchestrator": orchestrator}, limits=SwarmLimits(max_malformed_retries=2))
    out = await h.run()
    reqs = h.engine.requests_for("orchestrator")
    assert reqs[-1].tools is None  # forced to answer in text
    assert len(reqs) == 4
    assert out.summary.status == "completed"


async def test_orchestrator_step_limit_forces_an_answer() -> None:
    orchestrator = [call("create_subagent", TOOLED), fan("a"), fan("b"), say("final")]
    h = make_harness({"orchestrator": orchestrator, "w": [say("long enough answer")]})
    out = await h.run(max_orchestrator_steps=2)
    reqs = h.engine.requests_for("orchestrator")
    assert len(reqs) == 2
    assert reqs[1].tools is None
    assert "Limit reached (orchestrator step limit of 2)" in reqs[1].messages[-1]["content"]
    assert out.summary.status == "completed"


async def test_sub_agent_step_limit_and_short_answer_continuation() -> None:
    loops = [call("add", {"a": 1, "b": 1})]  # never answers on its own
    orchestrator = [call("create_subagent", TOOLED), fan("loop"), say("ok")]
    h = make_harness({"orchestrator": orchestrator, "w": loops})
    out = await h.run(max_subagent_steps=3)
    w = h.engine.requests_for("w")
    assert len(w) == 3 and w[-1].tools is None
    assert [e.data["status"] for e in out.events if e.type == "task.completed"] == ["failed"]

    short = [say("ok"), say("a complete and longer answer")]
    h = make_harness({"orchestrator": orchestrator, "w": short})
    await h.run(min_answer_chars=10)
    w = h.engine.requests_for("w")
    assert len(w) == 2 and "too short" in w[1].messages[-1]["content"]
    final = tool_messages(h.engine.requests_for("orchestrator")[-1])[1]["content"]
    assert final == "a complete and longer answer"


async def test_token_budget_and_sub_agent_limit() -> None:
    orchestrator = [call("create_subagent", TOOLED), fan("a", "b", "c"), say("end")]
    h = make_harness({"orchestrator": orchestrator, "w": [say("long enough answer")]})
    out = await h.run(max_subagents=2)
    results = [m["content"] for m in tool_messages(h.engine.requests_for("orchestrator")[-1])]
    assert "sub-agent budget of 2 tasks exhausted" in results[3]
    assert out.content == "end"

    h = make_harness({"orchestrator": orchestrator, "w": [say("long enough answer")]})
    out = await h.run(token_budget=20)  # 15 tokens per step: the fan-out stops it
    reqs = h.engine.requests_for("orchestrator")
    assert reqs[-1].tools is None
    assert "token budget of 20 exhausted" in reqs[-1].messages[-1]["content"]
    assert out.summary.status == "completed"


async def test_wall_clock_limit_times_out_tasks_and_still_answers() -> None:
    orchestrator = [call("create_subagent", TOOLED), fan("slow"), say("answer anyway")]
    h = make_harness({"orchestrator": orchestrator, "w": [call("sleep", {"s": 60})]})
    out = await h.run(timeout_s=0.3)
    assert [e.data["status"] for e in out.events if e.type == "task.completed"] == ["timeout"]
    assert out.content == "answer anyway"


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ({"max_subagents": 101}, "swarm.max_subagents"),
        ({"max_subagents": 0}, "swarm.max_subagents"),
        ({"max_concurrent": "4"}, "swarm.max_concurrent"),
        ({"timeout_s": -1}, "swarm.timeout_s"),
        ({"tool_mode": "sometimes"}, "swarm.tool_mode"),
        ({"bogus": 1}, "swarm.bogus"),
    ],
)
def test_options_only_tighten(raw: dict, param: str) -> None:  # type: ignore[type-arg]
    h = make_harness({})
    with pytest.raises(InvalidRequest) as info:
        h.service.options(raw)
    assert info.value.param == param


def test_options_defaults_per_model() -> None:
    assert make_harness({}, model="kimi-k2.5").service.options(None).tool_mode == "auto"
    smol = make_harness({}, model="smollm2").service.options({"max_subagents": 5})
    assert smol.tool_mode == "required" and smol.max_subagents == 5
