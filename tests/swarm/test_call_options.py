"""Swarm request semantics: the client's options reach the answer turn only; it streams live."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from dataclasses import replace

import pytest

from swarm.engine import ChatRequest, Delta, Sampling
from swarm.errors import InvalidRequest
from swarm.events import EventType
from tests.fakes.scripted_engine import Step, call, calls, say
from tests.swarm.conftest import make_harness

ORCH = [
    call("create_subagent", {"name": "w", "system_prompt": "p", "tools": ["add"]}),
    calls(
        ("assign_task", {"agent": "w", "task": "A"}), ("assign_task", {"agent": "w", "task": "B"})
    ),
    call("final_answer"),
    say("The final answer, streamed in pieces.", pieces=4),
]
WORKER = [call("add", {"a": 1, "b": 2}), say("three, computed with the tool")]
CLIENT_SAMPLING = Sampling(
    max_tokens=20,
    temperature=1.5,
    stop=["END"],
    seed=7,
    logprobs=True,
    top_logprobs=2,
    response_format={"type": "json_object"},
)
CLIENT_EXTRA = {"top_k": 5, "min_p": 0.1, "reasoning_effort": "low", "ignore_eos": True}


def client_request(**kw: object) -> ChatRequest:
    return ChatRequest(
        messages=[{"role": "user", "content": "question"}],
        sampling=CLIENT_SAMPLING,
        chat_template_kwargs={"thinking": True},
        extra=dict(CLIENT_EXTRA),
        parallel_tool_calls=False,
        **kw,  # type: ignore[arg-type]
    )


async def test_internal_calls_carry_none_of_the_clients_final_turn_options() -> None:
    h = make_harness({"orchestrator": ORCH, "w": WORKER})
    opts = h.opts(temperature=0.3, max_step_tokens=200)
    async with aclosing(h.service.run(client_request(), opts)) as stream:
        outputs = [item async for item in stream]

    internal = Sampling(temperature=0.3, max_tokens=200)
    steering = {"top_k": 5, "min_p": 0.1, "reasoning_effort": "low"}
    workers = h.engine.requests_for("w")
    *decisions, answer = h.engine.requests_for("orchestrator")
    assert len(workers) == 4 and len(decisions) == 3
    for req in [*workers, *decisions]:
        assert req.sampling == internal  # no max_tokens 20, stop, seed, logprobs, format
        assert req.extra == steering  # engine extras that only steer decoding
        assert req.chat_template_kwargs == {"thinking": True}
    assert all(r.parallel_tool_calls is False for r in [*workers, *decisions] if r.tools)
    assert answer.tools is None and answer.tool_choice is None
    assert answer.sampling == CLIENT_SAMPLING  # the answer turn is the client's turn
    assert answer.extra == CLIENT_EXTRA and answer.chat_template_kwargs == {"thinking": True}
    text = "".join(o.content or "" for o in outputs if isinstance(o, Delta))
    assert text == "The final answer, streamed in pieces."


async def test_swarm_sampling_defaults_to_the_models_own() -> None:
    h = make_harness({"orchestrator": ORCH, "w": WORKER})
    request = ChatRequest(messages=[{"role": "user", "content": "q"}], sampling=CLIENT_SAMPLING)
    async with aclosing(h.service.run(request, h.opts())) as stream:
        _ = [item async for item in stream]
    for r in h.engine.requests_for("w"):
        # max_tokens: at most what the run's token budget has left, never the client's 20
        assert replace(r.sampling, max_tokens=None) == Sampling() and r.sampling.max_tokens != 20


async def test_n_above_one_is_rejected_in_swarm_mode() -> None:
    h = make_harness({"orchestrator": ORCH, "w": WORKER})
    request = ChatRequest(messages=[{"role": "user", "content": "q"}], sampling=Sampling(n=2))
    with pytest.raises(InvalidRequest) as err:
        async with aclosing(h.service.run(request, h.opts())) as stream:
            _ = [item async for item in stream]
    assert err.value.param == "n" and "n separate requests" in err.value.message
    assert h.engine.requests == []


async def test_answer_streams_in_several_deltas_before_run_completed() -> None:
    h = make_harness({"orchestrator": ORCH, "w": WORKER})
    out = await h.run()
    kinds = [
        "delta" if isinstance(o, Delta) and o.content else getattr(o, "type", None)
        for o in out.items
    ]
    done = kinds.index(EventType.RUN_COMPLETED)
    assert kinds[:done].count("delta") == 4  # the answer's four pieces, as produced
    finals = [o.finish_reason for o in out.deltas if o.finish_reason]
    assert finals == ["stop"]
    assert out.summary.critical_steps == 1 + 3 + 1 + 1  # create, fan-out stage, final, answer


async def test_first_answer_token_arrives_while_the_engine_is_still_producing() -> None:
    answer = Step(content="first piece, then more", pieces=3, piece_delay_s=3600)
    h = make_harness({"orchestrator": [*ORCH[:3], answer], "w": WORKER})
    request = ChatRequest(messages=[{"role": "user", "content": "q"}])
    async with aclosing(h.service.run(request, h.opts())) as stream:
        async with asyncio.timeout(30):  # a hang here means the answer was held back
            async for item in stream:
                if isinstance(item, Delta) and item.content:
                    break
    assert item.content == "first pi"
    assert h.engine.aborted[-1].endswith("/orchestrator/0/3")  # closing aborted the answer turn


async def test_answer_cut_by_max_tokens_reports_length() -> None:
    answer = Step(content="a cut answ", finish="length")
    h = make_harness({"orchestrator": [*ORCH[:3], answer], "w": WORKER})
    out = await h.run()
    assert [d.finish_reason for d in out.deltas if d.finish_reason] == ["length"]
    assert out.content == "a cut answ"
