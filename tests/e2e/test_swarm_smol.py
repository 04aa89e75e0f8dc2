"""A swarm run on the real embedded SmolLM2 (in-process vLLM) through the real `openai` client."""

from __future__ import annotations

import re

import httpx
import openai
import pytest

from tests.servers import ServerProcess

pytestmark = pytest.mark.engine

QUESTION = [
    {"role": "user", "content": "Name the capital of France and one famous landmark there."}
]
# Small limits keep a CPU run short; the forced protocol still creates, assigns and answers.
SWARM = {"max_orchestrator_steps": 4, "max_subagent_steps": 2, "max_concurrent": 4}


@pytest.fixture(scope="module")
def client(smol_server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=smol_server.base_url, api_key="unused", max_retries=0)


def test_swarm_run_creates_assigns_and_answers(
    client: openai.OpenAI, smol_server: ServerProcess
) -> None:
    r = client.chat.completions.create(
        model="smollm2-swarm",
        messages=QUESTION,
        max_tokens=96,
        temperature=0,
        extra_body={"swarm": SWARM},
    )
    assert r.choices[0].message.content and r.choices[0].message.content.strip()
    swarm = (r.model_extra or {})["swarm"]
    assert swarm["status"] == "completed"
    assert swarm["critical_steps"] >= 3 and swarm["total_steps"] >= swarm["critical_steps"]
    assert len(swarm["agents"]) >= 2  # the orchestrator and at least one sub-agent task
    assert r.usage is not None and r.usage.total_tokens > 0

    events = httpx.get(f"{smol_server.url}/v1/swarm/runs/{swarm['run_id']}/events", timeout=30)
    types = [
        line.split('"type": "')[1].split('"')[0]
        for line in events.text.splitlines()
        if line.startswith("data:")
    ]
    assert types[0] == "run.started" and types[-1] == "run.completed"
    assert {"agent.created", "task.started", "task.completed"} <= set(types)


def test_swarm_run_streams_its_events_in_band(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="smollm2-swarm",
        messages=QUESTION,
        max_tokens=96,
        temperature=0,
        stream=True,
        extra_body={"swarm": SWARM, "stream_options": {"include_swarm_events": True}},
    )
    events, text, summary = [], "", None
    for chunk in stream:
        extra = chunk.model_extra or {}
        if extra.get("swarm", {}).get("type") == "run.summary":
            summary = extra["swarm"]
        elif "swarm" in extra:
            events.append(extra["swarm"])
        for choice in chunk.choices:
            text += choice.delta.content or ""
    assert text.strip()
    assert events[0]["type"] == "run.started" and events[-1]["type"] == "run.completed"
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert summary is not None and summary["run_id"] == events[0]["run_id"]


README_QUESTION = [{"role": "user", "content": "Compare the populations of France and Spain."}]
PROTOCOL = re.compile(r"<tool_call>|</?tool_response>|\berror:|create_subagent|assign_task")


def test_readme_example_ends_cleanly_on_the_embedded_model(client: openai.OpenAI) -> None:
    # The README's request as written: no max_tokens (the small-model answer limit applies).
    r = client.chat.completions.create(
        model="smollm2-swarm",
        messages=README_QUESTION,
        extra_body={"swarm": {"max_subagents": 8, "max_concurrent": 4, "timeout_s": 120}},
    )
    answer = r.choices[0].message.content or ""
    swarm = (r.model_extra or {})["swarm"]
    assert swarm["status"] == "completed", swarm
    assert answer.strip() and not PROTOCOL.search(answer), answer
    assert r.choices[0].finish_reason in ("stop", "length")
    names = [a["name"] for a in swarm["agents"]]
    assert names[0] == "orchestrator" and len(names) >= 2  # at least one sub-agent task ran
    assert not {"create_subagent", "assign_task", "final_answer"} & set(names)


def test_naive_stream_on_the_real_model(client: openai.OpenAI) -> None:
    # max_tokens bounds the answer turn only (a 135M model otherwise writes to the context end).
    stream = client.chat.completions.create(
        model="smollm2-swarm", messages=QUESTION, stream=True, max_tokens=96,
        extra_body={"swarm": SWARM},
    )  # fmt: skip
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream]  # never choices == []
    assert sum(1 for p in pieces if p) >= 2 and not PROTOCOL.search("".join(pieces))


async def test_openai_agents_sdk_against_the_real_server(smol_server: ServerProcess) -> None:
    agents = pytest.importorskip("agents")
    agents.set_tracing_disabled(True)
    model = agents.OpenAIChatCompletionsModel(
        model="smollm2-swarm",
        openai_client=openai.AsyncOpenAI(
            base_url=smol_server.base_url, api_key="unused", max_retries=0
        ),
    )
    agent = agents.Agent(
        name="assistant", instructions="Answer briefly.", model=model,
        model_settings=agents.ModelSettings(max_tokens=96),
    )  # fmt: skip
    result = await agents.Runner.run(agent, README_QUESTION[0]["content"])
    assert isinstance(result.final_output, str) and result.final_output.strip()
    assert not PROTOCOL.search(result.final_output), result.final_output
