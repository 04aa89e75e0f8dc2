"""The embedded SmolLM2 on the real in-process vLLM engine, driven by the real `openai` client."""

from __future__ import annotations

import json
import re
import time

import httpx
import openai
import pytest

from tests.servers import ServerProcess

pytestmark = pytest.mark.engine

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
ASK_WEATHER = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture(scope="module")
def client(smol_server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=smol_server.base_url, api_key="unused", max_retries=0)


def test_sensible_answer(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="smollm2",
        messages=[
            {"role": "user", "content": "What is the capital of France? Answer in one sentence."}
        ],
        max_tokens=40,
        temperature=0,
    )
    assert "Paris" in (r.choices[0].message.content or "")
    assert r.usage is not None and r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    assert r.model == "smollm2"


def test_required_strict_tool_call_is_valid(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="smollm2", messages=ASK_WEATHER, tools=[WEATHER_TOOL], tool_choice="required",
        max_tokens=60, temperature=0,
    )  # fmt: skip
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert set(json.loads(call.function.arguments)) == {"city"}


def test_streamed_named_tool_call_has_indexed_deltas(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="smollm2", messages=ASK_WEATHER, tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=60, temperature=0, stream=True, stream_options={"include_usage": True},
    )  # fmt: skip
    args, names, usage, finish = "", [], None, None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for tc in choice.delta.tool_calls or []:
                assert tc.index == 0
                names += [tc.function.name] if tc.function and tc.function.name else []
                args += tc.function.arguments or "" if tc.function else ""
    assert names == ["get_weather"]
    assert isinstance(json.loads(args)["city"], str)
    assert usage is not None and usage.completion_tokens > 0


def test_json_schema_response_format(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    r = client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": "Describe a person as JSON."}],
        response_format={"type": "json_schema", "json_schema": {"name": "p", "schema": schema}},
        max_tokens=60, temperature=0,
    )  # fmt: skip
    data = json.loads(r.choices[0].message.content or "")
    assert isinstance(data["name"], str) and isinstance(data["age"], int)


def test_logprobs_stop_seed_and_n(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": "Count from one to ten in words."}],
        max_completion_tokens=30, temperature=0.8, seed=7, n=2, logprobs=True, top_logprobs=2,
        stop=["five"],
    )  # fmt: skip
    assert len(r.choices) == 2
    for choice in r.choices:
        assert "five" not in (choice.message.content or "")
        assert choice.logprobs is not None and choice.logprobs.content
        assert len(choice.logprobs.content[0].top_logprobs) == 2
    again = client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": "Count from one to ten in words."}],
        max_completion_tokens=30, temperature=0.8, seed=7, n=2, stop=["five"],
    )  # fmt: skip
    assert [c.message.content for c in again.choices] == [c.message.content for c in r.choices]


async def test_async_streaming_text(smol_server: ServerProcess) -> None:
    client = openai.AsyncOpenAI(base_url=smol_server.base_url, api_key="unused", max_retries=0)
    stream = await client.chat.completions.create(
        model="smollm2", messages=[{"role": "user", "content": "Say hello."}],
        max_tokens=20, temperature=0, stream=True,
    )  # fmt: skip
    text, roles = "", []
    async for chunk in stream:
        for choice in chunk.choices:
            roles += [choice.delta.role] if choice.delta.role else []
            text += choice.delta.content or ""
    await client.close()
    assert roles == ["assistant"]
    assert text.strip()


def test_prompt_over_context_length_is_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model="smollm2", messages=[{"role": "user", "content": "word " * 6000}], max_tokens=5
        )
    assert "context length" in err.value.message
    assert err.value.code == "context_length_exceeded"


def _gauge(smol_server: ServerProcess, name: str) -> float:
    text = httpx.get(f"{smol_server.url}/metrics", timeout=10).text
    found = re.findall(rf"^{re.escape(name)}(?:\{{[^}}]*\}})? ([0-9.e+]+)$", text, re.M)
    assert found, f"{name} missing from /metrics"
    return sum(float(x) for x in found)


def _until_zero(smol_server: ServerProcess, name: str) -> float:
    deadline = time.monotonic() + 30
    while (value := _gauge(smol_server, name)) > 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    return value


def test_client_disconnect_aborts_engine_request(smol_server: ServerProcess) -> None:
    ours, vllms = "kimi_swarm_engine_requests_running", "vllm:num_requests_running"
    body = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": "Write a very long story about the sea."}],
        "max_tokens": 3000, "temperature": 1.0, "stream": True, "ignore_eos": True,
    }  # fmt: skip
    with httpx.stream(
        "POST", f"{smol_server.base_url}/chat/completions", json=body, timeout=60
    ) as r:
        assert r.status_code == 200
        # Keep this iterator referenced: a dropped `iter_lines()` generator is closed at once,
        # and closing it closes the connection — a disconnect before the checks below (the
        # cause of this test's old flake: it broke out of an unnamed `r.iter_lines()`).
        lines = r.iter_lines()
        contents = 0
        for line in lines:
            contents += line.startswith("data: {") and '"content"' in line
            if contents == 3:
                break
        assert contents == 3
        assert _gauge(smol_server, ours) == 1
        assert _gauge(smol_server, vllms) == 1
    # Leaving the block closes the connection: the disconnect under test.
    assert _until_zero(smol_server, ours) == 0
    assert _until_zero(smol_server, vllms) == 0


def test_request_id_echoed_and_metrics_count(smol_server: ServerProcess) -> None:
    r = httpx.post(
        f"{smol_server.base_url}/chat/completions",
        headers={"X-Request-Id": "req-abc123"},
        json={"model": "smollm2", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3},
        timeout=60,
    )
    assert r.status_code == 200
    assert r.headers["x-request-id"] == "req-abc123"
    # The client's id is echoed, never reused: the completion (and engine) id is ours.
    assert r.json()["id"].startswith("chatcmpl-") and "req-abc123" not in r.json()["id"]
    metrics = httpx.get(f"{smol_server.url}/metrics", timeout=10).text
    assert re.search(
        r'kimi_swarm_http_requests_total\{route="/v1/chat/completions",status="200"\} [1-9]',
        metrics,
    )
    assert re.search(r'kimi_swarm_tokens_total\{kind="completion"\} [1-9]', metrics)
    version = httpx.get(f"{smol_server.url}/version", timeout=10).json()
    assert version["vllm"] == "0.32.0"
