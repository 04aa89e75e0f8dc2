"""Completions, tokenize and Responses on the embedded SmolLM2 (real engine), via the `openai` SDK."""

from __future__ import annotations

import json
import threading

import httpx
import openai
import pytest

from tests.servers import ServerProcess

pytestmark = pytest.mark.engine

MODEL = "smollm2"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "strict": True,
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}


@pytest.fixture(scope="module")
def client(smol_server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=smol_server.base_url, api_key="unused", max_retries=0)


def test_completions_sync_and_stream(client: openai.OpenAI) -> None:
    r = client.completions.create(
        model=MODEL, prompt="The capital of France is", max_tokens=6, temperature=0
    )
    assert r.object == "text_completion" and r.choices[0].text.strip()
    assert r.usage is not None and 0 < r.usage.completion_tokens <= 6
    chunks = list(
        client.completions.create(
            model=MODEL, prompt="The capital of France is", max_tokens=6, temperature=0,
            stream=True,
        )
    )  # fmt: skip
    assert len(chunks) > 1
    assert "".join(c.choices[0].text for c in chunks if c.choices) == r.choices[0].text


async def test_completions_async(smol_server: ServerProcess) -> None:
    client = openai.AsyncOpenAI(base_url=smol_server.base_url, api_key="x", max_retries=0)
    r = await client.completions.create(model=MODEL, prompt=["One", "Two"], max_tokens=3)
    assert sorted(c.index for c in r.choices) == [0, 1]
    await client.close()


def test_completions_errors_are_openai_shaped(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.completions.create(model=MODEL, prompt="x", max_tokens=-1)
    assert err.value.body["param"] == "max_tokens"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as err:
        client.completions.create(model=f"{MODEL}-swarm", prompt="x")
    assert err.value.body["param"] == "model"  # type: ignore[index]


def test_tokenize_detokenize_round_trip(smol_server: ServerProcess) -> None:
    tok = httpx.post(f"{smol_server.url}/tokenize", json={"model": MODEL, "prompt": "Hello world"})
    assert tok.status_code == 200
    body = tok.json()
    assert body["count"] == len(body["tokens"]) > 0
    detok = httpx.post(f"{smol_server.url}/detokenize", json={"tokens": body["tokens"]})
    assert detok.json()["prompt"] == "Hello world"
    chat = httpx.post(
        f"{smol_server.url}/tokenize",
        json={"messages": [{"role": "user", "content": "Hi"}], "add_generation_prompt": True},
    )
    assert chat.json()["count"] > body["count"]  # the chat template's tokens
    bad = httpx.post(f"{smol_server.url}/detokenize", json={"tokens": "nope"})
    assert bad.status_code == 400 and set(bad.json()["error"]) == {
        "message",
        "type",
        "param",
        "code",
    }


def test_responses_create_retrieve_and_follow_up(client: openai.OpenAI) -> None:
    first = client.responses.create(
        model=MODEL, instructions="Answer in one sentence.",
        input="What is the capital of France?", max_output_tokens=30, temperature=0,
    )  # fmt: skip
    assert first.status == "completed" and "Paris" in first.output_text
    assert client.responses.retrieve(first.id).output_text == first.output_text
    second = client.responses.create(
        model=MODEL, input="And what is the capital of Germany?", previous_response_id=first.id,
        max_output_tokens=30, temperature=0,
    )  # fmt: skip
    assert "Berlin" in second.output_text
    assert second.previous_response_id == first.id


def test_responses_stream_sync_and_async(client: openai.OpenAI) -> None:
    events = list(
        client.responses.create(model=MODEL, input="Say hello.", max_output_tokens=12, stream=True)
    )
    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text and text == events[-1].response.output_text  # type: ignore[union-attr]


async def test_responses_async_stream(smol_server: ServerProcess) -> None:
    client = openai.AsyncOpenAI(base_url=smol_server.base_url, api_key="x", max_retries=0)
    async with client.responses.stream(model=MODEL, input="Say hi.", max_output_tokens=8) as s:
        deltas = [e.delta async for e in s if e.type == "response.output_text.delta"]
        final = await s.get_final_response()
    assert "".join(deltas) == final.output_text
    await client.close()


def test_responses_function_tool_round_trip(client: openai.OpenAI) -> None:
    first = client.responses.create(
        model=MODEL, input="What is the weather in Paris?", tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="required", max_output_tokens=60, temperature=0,
    )  # fmt: skip
    (call,) = [o for o in first.output if o.type == "function_call"]
    assert call.name == "get_weather" and set(json.loads(call.arguments)) == {"city"}
    second = client.responses.create(
        model=MODEL, previous_response_id=first.id, tools=[WEATHER],  # type: ignore[list-item]
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 22 C"}],
        max_output_tokens=40, temperature=0,
    )  # fmt: skip
    assert second.status == "completed" and second.output_text.strip()


def test_responses_structured_output_and_logprobs(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
        "required": ["city", "country"],
        "additionalProperties": False,
    }
    r = client.responses.create(
        model=MODEL, input="Name a city and its country as JSON.", max_output_tokens=60,
        text={"format": {"type": "json_schema", "name": "place", "schema": schema, "strict": True}},
        include=["message.output_text.logprobs"], top_logprobs=2, temperature=0,
    )  # fmt: skip
    assert set(json.loads(r.output_text)) == {"city", "country"}
    part = r.output[0].content[0]  # type: ignore[union-attr]
    assert part.logprobs and len(part.logprobs[0].top_logprobs) == 2  # type: ignore[union-attr]


def test_responses_accept_reasoning_input_items(client: openai.OpenAI) -> None:
    r = client.responses.create(
        model=MODEL, max_output_tokens=10,
        input=[
            {"role": "user", "content": "Pick a colour."},
            {"type": "reasoning", "id": "rs_1", "summary": [],
             "content": [{"type": "reasoning_text", "text": "Blue is calm."}]},
            {"role": "assistant", "content": "Blue."},
            {"role": "user", "content": "Why?"},
        ],
    )  # fmt: skip
    assert r.status in ("completed", "incomplete") and r.output_text


def test_cancel_stops_a_streaming_response(smol_server: ServerProcess) -> None:
    client = openai.OpenAI(base_url=smol_server.base_url, api_key="x", max_retries=0)
    stream = client.responses.create(
        model=MODEL, input="Write a long story about a dragon.", max_output_tokens=400,
        stream=True,
    )  # fmt: skip
    response_id, deltas, last = "", 0, None
    for event in stream:
        if event.type == "response.created":
            response_id = event.response.id
        if event.type == "response.output_text.delta":
            deltas += 1
            if deltas == 2:
                threading.Thread(
                    target=httpx.post,
                    args=(f"{smol_server.base_url}/responses/{response_id}/cancel",),
                ).start()
        last = event
    assert last is not None and last.type == "response.cancelled"  # type: ignore[comparison-overlap]
    assert client.responses.retrieve(response_id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        client.responses.cancel(response_id)
