"""Swarm chat over real HTTP with real clients: stream shape, heartbeats, client options.

The server is the real app under uvicorn on 127.0.0.1; only the model is scripted.
"""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from swarm.engine import ChatRequest
from tests.fakes.scripted_engine import Step, call, calls, say
from tests.server.live_swarm import live_swarm

ANSWER = "Paris is the capital; the Eiffel Tower stands there."
ORCH = [
    call("create_subagent", {"name": "w", "system_prompt": "p", "tools": ["add"]}),
    calls(
        ("assign_task", {"agent": "w", "task": "1"}), ("assign_task", {"agent": "w", "task": "2"})
    ),
    call("final_answer"),
    say(ANSWER, pieces=5),
]
SCRIPTS = {"orchestrator": ORCH, "w": [say("a sub-agent answer")]}
MESSAGES = [{"role": "user", "content": "Capital of France and a landmark?"}]


def test_naive_client_reads_choices_0_of_every_chunk() -> None:
    with live_swarm(SCRIPTS) as (url, _):
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0)
        stream = client.chat.completions.create(
            model="kimi-fake-swarm", messages=MESSAGES, stream=True
        )
        text, finishes, n = "", [], 0
        for chunk in stream:
            choice = chunk.choices[0]  # what a naive client does: it must never IndexError
            text += choice.delta.content or ""
            finishes += [choice.finish_reason] if choice.finish_reason else []
            n += 1
    assert text == ANSWER and finishes == ["stop"]
    assert n >= 5  # the answer arrived in pieces, as the engine produced them


def test_opt_in_extras_are_typed_choices_free_chunks() -> None:
    with live_swarm(SCRIPTS) as (url, _):
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0)
        stream = client.chat.completions.create(
            model="kimi-fake-swarm",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"stream_options": {"include_usage": True, "include_swarm_events": True}},
        )
        chunks = list(stream)
    extras = [c for c in chunks if not c.choices]
    payloads = [(c.model_extra or {}).get("swarm") for c in extras]
    typed = [p["type"] for p in payloads if p is not None]
    assert all(p is None or "type" in p for p in payloads)  # a client can switch on type alone
    assert typed[0] == "run.started" and typed[-1] == "run.summary"
    assert "run.completed" in typed
    usage = next(c.usage for c in extras if c.usage is not None)
    assert usage.total_tokens > 0


def test_client_options_shape_only_the_answer_turn() -> None:
    with live_swarm(SCRIPTS) as (url, engine):
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0)
        r = client.chat.completions.create(
            model="kimi-fake-swarm",
            messages=MESSAGES,
            max_tokens=20,
            stop=["END"],
            seed=3,
            extra_body={"top_k": 4, "chat_template_kwargs": {"thinking": False}},
        )
        with pytest.raises(openai.BadRequestError) as err:
            client.chat.completions.create(model="kimi-fake-swarm", messages=MESSAGES, n=2)
    assert r.choices[0].message.content == ANSWER
    assert err.value.status_code == 400 and err.value.body["param"] == "n"  # type: ignore[index]
    internal = [req for req in engine.requests if not req.request_id.endswith("orchestrator/0/3")]
    answer = [req for req in engine.requests if req.request_id.endswith("orchestrator/0/3")]
    assert len(answer) == 1 and answer[0].sampling.max_tokens == 20
    assert answer[0].sampling.stop == ["END"] and answer[0].sampling.seed == 3
    for req in internal:
        assert req.sampling.max_tokens != 20 and req.sampling.stop is None  # budget cap only
        assert req.sampling.seed is None and req.extra == {"top_k": 4}
        assert req.chat_template_kwargs == {"thinking": False}


def test_heartbeat_counts_from_the_last_byte_sent_during_a_silent_fan_out() -> None:
    """Sub-agents finish every 40 ms (events the client did not ask for): pings still go out."""

    def staggered(request: ChatRequest, turn: int) -> Step:
        k = int(request.messages[-1]["content"])
        return say("a sub-agent answer", latency_s=0.04 * k)

    fan = calls(*[("assign_task", {"agent": "w", "task": str(k)}) for k in range(1, 9)])
    scripts = {"orchestrator": [ORCH[0], fan, *ORCH[2:]], "w": staggered}
    with live_swarm(scripts, heartbeat_s=0.05) as (url, _):
        body = {"model": "kimi-fake-swarm", "messages": MESSAGES, "stream": True}
        with httpx.stream("POST", f"{url}/chat/completions", json=body, timeout=30) as r:
            lines = [line for line in r.iter_lines() if line]
    first_content = next(i for i, line in enumerate(lines) if '"content"' in line)
    assert lines[:first_content].count(": ping") >= 2
    data = [json.loads(line[6:]) for line in lines if line.startswith("data: {")]
    assert all(d["choices"] for d in data)  # nothing opt-in was sent


async def test_openai_agents_sdk_chat_completions_model() -> None:
    agents = pytest.importorskip("agents")
    agents.set_tracing_disabled(True)
    with live_swarm(SCRIPTS) as (url, _):
        model = agents.OpenAIChatCompletionsModel(
            model="kimi-fake-swarm",
            openai_client=openai.AsyncOpenAI(base_url=url, api_key="unused", max_retries=0),
        )
        agent = agents.Agent(name="assistant", instructions="Answer briefly.", model=model)
        result = await agents.Runner.run(agent, "Capital of France and a landmark?")
        streamed = agents.Runner.run_streamed(agent, "Capital of France and a landmark?")
        deltas = [
            e.data.delta
            async for e in streamed.stream_events()
            if e.type == "raw_response_event" and e.data.type == "response.output_text.delta"
        ]
    assert result.final_output == ANSWER
    assert streamed.final_output == ANSWER and "".join(deltas) == ANSWER and len(deltas) >= 5
