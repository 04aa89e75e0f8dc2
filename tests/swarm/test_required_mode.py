"""Forced-tool-call protocol for models that only call tools when made to (e.g. SmolLM2)."""

from __future__ import annotations

import re

from swarm.engine import ChatRequest, Sampling
from swarm.limits import SMALL_MODEL_DEFAULTS
from tests.fakes.scripted_engine import call, say
from tests.swarm.conftest import make_harness


async def test_required_mode_walks_create_assign_then_final_answer() -> None:
    orchestrator = [
        call("create_subagent", {"name": "w", "system_prompt": "p", "tools": ["add"]}),
        call("assign_task", {"agent": "w", "task": "add"}),
        call("final_answer"),
        say("It is 3."),  # the answer turn
    ]
    worker = [
        call("add", {"a": 1, "b": 2}),
        call("final_answer", {"answer": "1 + 2 = 3, computed."}),
    ]
    h = make_harness({"orchestrator": orchestrator, "w": worker}, model="smollm2")
    out = await h.run()

    assert out.content == "It is 3."
    reqs = h.engine.requests_for("orchestrator")
    named = [r.tool_choice for r in reqs]
    assert named[0] == {"type": "function", "function": {"name": "create_subagent"}}
    assert named[1] == {"type": "function", "function": {"name": "assign_task"}}
    assert named[2] == "required"
    assert reqs[3].tools is None and reqs[3].tool_choice is None  # the answer turn
    final = next(t for t in reqs[2].tools or [] if t["function"]["name"] == "final_answer")
    assert final["function"]["parameters"]["properties"] == {}
    assign = next(t for t in reqs[1].tools or [] if t["function"]["name"] == "assign_task")
    assert assign["function"]["strict"] is True
    assert assign["function"]["parameters"]["properties"]["agent"]["enum"] == ["w"]
    # A small model's free text is bounded, so the call's JSON closes within a step's tokens.
    create = reqs[0].tools[0]["function"]["parameters"]["properties"]  # type: ignore[index]
    bounded = re.compile(create["system_prompt"]["pattern"])
    assert bounded.match("x" * 128) and not bounded.match("x" * 129)
    assert not bounded.match('say "hi"') and not bounded.match("two\nlines")
    assert assign["function"]["parameters"]["properties"]["task"]["pattern"] == bounded.pattern
    named = re.compile(create["name"]["pattern"])
    assert named.match("population_FR-1.2") and not named.match("a b") and not named.match("")
    assert create["tools"]["maxItems"] == len(create["tools"]["items"]["enum"])
    # Small-model step and answer limits where neither the operator nor the client set one.
    assert {r.sampling.max_tokens for r in reqs[:3]} == {SMALL_MODEL_DEFAULTS["max_step_tokens"]}
    assert reqs[3].sampling.max_tokens == SMALL_MODEL_DEFAULTS["answer_max_tokens"]
    w = h.engine.requests_for("w")
    assert w[0].tool_choice == "required"
    assert {t["function"]["name"] for t in w[0].tools or []} == {"add", "final_answer"}
    assert all(t["function"].get("strict") for t in w[0].tools or [])


async def test_small_model_answer_turn_keeps_the_clients_max_tokens() -> None:
    orchestrator = [
        call("create_subagent", {"name": "w", "system_prompt": "p"}),
        call("assign_task", {"agent": "w", "task": "t"}),
        call("final_answer"),
        say("Done."),
    ]
    h = make_harness({"orchestrator": orchestrator}, model="smollm2")
    request = ChatRequest(
        messages=[{"role": "user", "content": "q"}], sampling=Sampling(max_tokens=7)
    )
    async for _ in h.service.run(request, h.opts()):
        pass
    reqs = h.engine.requests_for("orchestrator")
    assert reqs[-1].tools is None and reqs[-1].sampling.max_tokens == 7
    assert reqs[0].sampling.max_tokens == SMALL_MODEL_DEFAULTS["max_step_tokens"]


async def test_required_mode_last_step_answers_in_plain_text() -> None:
    orchestrator = [call("create_subagent", {"name": "w", "system_prompt": "p"})]
    h = make_harness({"orchestrator": orchestrator}, model="smollm2")
    out = await h.run(max_orchestrator_steps=2)
    last = h.engine.requests_for("orchestrator")[-1]
    assert last.tools is None and last.tool_choice is None
    assert out.summary.status == "completed"


async def test_tool_less_sub_agent_answers_in_plain_text() -> None:
    orchestrator = [
        call("create_subagent", {"name": "w", "system_prompt": "p"}),
        call("assign_task", {"agent": "w", "task": "say hi"}),
        call("final_answer", {"answer": "done"}),
    ]
    h = make_harness(
        {"orchestrator": orchestrator, "w": [say("hello there, friend")]}, model="smollm2"
    )
    await h.run()
    (w,) = h.engine.requests_for("w")
    assert w.tools is None and w.tool_choice is None
