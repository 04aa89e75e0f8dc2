"""The swarm over `/v1/responses`, driven by the real `openai` SDK over HTTP (scripted engine)."""

from __future__ import annotations

import time

import httpx
import openai

from swarm.engine import ModelInfo
from swarm.errors import EngineRejected
from tests.clients.scripted_app import MODEL, RESEARCH, SWARM_MODEL, serve_scripted
from tests.fakes.scripted_engine import ScriptedEngine, Step, call

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def test_create_retrieve_sync(scripted_url: str) -> None:
    client = openai.OpenAI(base_url=scripted_url, api_key="x", max_retries=0)
    r = client.responses.create(model=SWARM_MODEL, input="What is the answer?")
    assert r.status == "completed"
    assert r.output_text == f"Final answer: {RESEARCH}"
    assert r.usage is not None and r.usage.input_tokens > 0 and r.usage.output_tokens > 0
    swarm = (r.model_extra or {})["swarm"]
    assert swarm["run_id"].startswith("run_") and swarm["total_steps"] == 4
    again = client.responses.retrieve(r.id)
    assert again.id == r.id and again.output_text == r.output_text


def test_stream_carries_swarm_events_then_the_answer(scripted_url: str) -> None:
    client = openai.OpenAI(base_url=scripted_url, api_key="x", max_retries=0)
    events = list(client.responses.create(model=SWARM_MODEL, input="question", stream=True))
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    for name in ("run.started", "agent.created", "task.started", "task.completed"):
        assert f"response.swarm.{name}" in types
    swarm_events = [e for e in events if e.type.startswith("response.swarm.")]
    assert all((e.model_extra or {})["event"]["run_id"].startswith("run_") for e in swarm_events)
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == f"Final answer: {RESEARCH}"
    assert types.index("response.swarm.task.completed") < types.index("response.output_text.delta")
    numbers = [e.sequence_number for e in events]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert events[-1].response.output_text == deltas  # type: ignore[union-attr]


def test_stream_helper_accumulates(scripted_url: str) -> None:
    client = openai.OpenAI(base_url=scripted_url, api_key="x", max_retries=0)
    with client.responses.stream(model=SWARM_MODEL, input="question") as stream:
        texts = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(texts) == final.output_text == f"Final answer: {RESEARCH}"


async def test_async_stream(scripted_url: str) -> None:
    client = openai.AsyncOpenAI(base_url=scripted_url, api_key="x", max_retries=0)
    stream = await client.responses.create(model=SWARM_MODEL, input="question", stream=True)
    text = ""
    async for event in stream:
        if event.type == "response.output_text.delta":
            text += event.delta
    assert text == f"Final answer: {RESEARCH}"
    await client.close()


def test_client_tool_pauses_and_previous_response_id_resumes(scripted_url: str) -> None:
    client = openai.OpenAI(base_url=scripted_url, api_key="x", max_retries=0)
    first = client.responses.create(model=SWARM_MODEL, input="Weather?", tools=[WEATHER])  # type: ignore[list-item]
    calls = [o for o in first.output if o.type == "function_call"]
    assert [c.name for c in calls] == ["get_weather"]
    assert (first.model_extra or {})["swarm"]["status"] == "requires_action"
    assert [i.type for i in client.responses.input_items.list(first.id, order="asc")] == ["message"]
    second = client.responses.create(
        model=SWARM_MODEL,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny"}],
        tools=[WEATHER],  # type: ignore[list-item]
    )
    assert second.output_text == f"Final answer: {RESEARCH} | sunny"
    assert second.previous_response_id == first.id
    kinds = [i.type for i in client.responses.input_items.list(second.id, order="asc")]
    assert kinds == ["message", "function_call", "function_call_output"]
    run = (first.model_extra or {})["swarm"]["run_id"]
    assert (second.model_extra or {})["swarm"]["run_id"] == run


def test_client_tool_resumes_from_full_input_items(scripted_url: str) -> None:
    """Clients that resend the whole conversation (no previous_response_id) resume too."""
    client = openai.OpenAI(base_url=scripted_url, api_key="x", max_retries=0)
    items: list = [{"role": "user", "content": "Weather?"}]
    first = client.responses.create(model=SWARM_MODEL, input=items, tools=[WEATHER], store=False)  # type: ignore[list-item]
    call = next(o for o in first.output if o.type == "function_call")
    items += [o.model_dump(exclude_none=True) for o in first.output]
    items.append({"type": "function_call_output", "call_id": call.call_id, "output": "rainy"})
    second = client.responses.create(model=SWARM_MODEL, input=items, tools=[WEATHER])  # type: ignore[list-item]
    assert second.output_text == f"Final answer: {RESEARCH} | rainy"
    try:
        client.responses.retrieve(first.id)
    except openai.NotFoundError as exc:
        assert exc.body["code"] == "not_found"  # type: ignore[index]
    else:
        raise AssertionError("store=False responses must not be retrievable")


def test_errors_are_openai_shaped(scripted_url: str) -> None:
    client = openai.OpenAI(base_url=scripted_url, api_key="x", max_retries=0)
    for kwargs, status, param in [
        ({"model": "nope", "input": "x"}, 404, "model"),
        ({"model": SWARM_MODEL, "input": "x", "previous_response_id": "resp_nope"}, 404,
         "previous_response_id"),
        ({"model": SWARM_MODEL, "input": 5}, 400, "input"),
        ({"model": SWARM_MODEL, "input": "x", "background": True}, 400, "background"),
    ]:  # fmt: skip
        try:
            client.responses.create(**kwargs)  # type: ignore[call-overload]
        except openai.APIStatusError as exc:
            assert exc.status_code == status, kwargs
            assert exc.body["param"] == param  # type: ignore[index]
        else:
            raise AssertionError(f"accepted {kwargs}")
    # The plain model on an engine without raw endpoints: a clear 404, not a crash.
    try:
        client.completions.create(model=MODEL, prompt="x")
    except openai.NotFoundError as exc:
        assert "does not serve /completions" in exc.message
    else:
        raise AssertionError("the scripted engine has no /v1/completions")


def test_cancel_stops_a_streaming_swarm_response() -> None:
    orchestrator = [
        call("create_subagent", {"name": "w", "system_prompt": "p"}),
        call("assign_task", {"agent": "w", "task": "forever"}),
    ]
    engine = ScriptedEngine(
        {"orchestrator": orchestrator, "w": [Step(content="working", hang=True)]},
        info=ModelInfo(MODEL),
    )
    with serve_scripted(engine) as url:
        client = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
        stream = client.responses.create(model=SWARM_MODEL, input="question", stream=True)
        types = []
        for event in stream:
            types.append(event.type)
            if event.type == "response.created":
                response_id = event.response.id
            if event.type == "response.swarm.task.started":
                cancelled = httpx.post(f"{url}/responses/{response_id}/cancel")
                assert cancelled.json()["status"] == "cancelled"
        assert types[-1] == "response.cancelled"
        assert client.responses.retrieve(response_id).status == "cancelled"
        deadline = time.monotonic() + 10
        while not any(r.startswith("run_") and "/w/" in r for r in engine.aborted):
            assert time.monotonic() < deadline, "the sub-agent's engine request was not aborted"
            time.sleep(0.05)


def test_a_failure_mid_stream_is_one_error_event() -> None:
    orchestrator = [
        call("create_subagent", {"name": "w", "system_prompt": "p"}),
        Step(error=EngineRejected("the model refused the prompt")),
    ]
    engine = ScriptedEngine({"orchestrator": orchestrator}, info=ModelInfo(MODEL))
    with serve_scripted(engine) as url:
        client = openai.OpenAI(base_url=url, api_key="x", max_retries=0)
        events = list(client.responses.create(model=SWARM_MODEL, input="q", stream=True))
        types = [e.type for e in events]
        assert types[0] == "response.created" and types[-1] == "error", types
        assert "response.completed" not in types
        assert "the model refused the prompt" in events[-1].message  # type: ignore[union-attr]
