"""The upstream engine over `httpx.MockTransport`: retries, Retry-After, error mapping, SSE parsing."""

from __future__ import annotations

import json

import httpx
import pytest

from server.engines.replica import Replica
from server.engines.upstream import UpstreamEngine
from swarm.engine import ChatRequest, Delta, ModelInfo, Usage
from swarm.errors import EngineRejected, EngineUnavailable

REPLY = {
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
SSE = (
    'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'
    'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
    'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}\n\n'
    'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n'
    "data: [DONE]\n\n"
)


def _engine(handler: object, **kw: float) -> UpstreamEngine:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://up/v1/")  # type: ignore[arg-type]
    replica = Replica(client, "http://up/v1")
    return UpstreamEngine([replica], ModelInfo(name="m"), "m", backoff_s=0.001, **kw)  # type: ignore[arg-type]


async def _all(engine: UpstreamEngine, stream: bool) -> list[object]:
    return [
        e
        async for e in engine.stream(
            ChatRequest(messages=[{"role": "user", "content": "x"}], stream=stream)
        )
    ]


async def test_retries_429_honouring_retry_after_then_succeeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []

    async def fake_sleep(s: float) -> None:
        waits.append(s)

    monkeypatch.setattr("server.engines.upstream.asyncio.sleep", fake_sleep)
    answers = [
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(503),
        httpx.Response(200, json=REPLY),
    ]
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return answers.pop(0)

    events = await _all(_engine(handler), stream=False)
    assert waits[0] == 3.0 and 0 < waits[1] < 1  # Retry-After first, then jittered back-off
    assert len(seen) == 3 and seen[0]["model"] == "m" and seen[0]["stream"] is False
    assert isinstance(events[0], Delta) and events[0].content == "hi"
    assert isinstance(events[-1], Usage) and events[-1].total_tokens == 4


async def test_gives_up_after_max_retries() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503, json={"error": {"message": "overloaded"}})

    with pytest.raises(EngineUnavailable, match="overloaded"):
        await _all(_engine(handler, max_retries=2), stream=True)
    assert len(calls) == 3


async def test_client_errors_are_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(400, json={"error": {"message": "bad stop", "param": "stop"}})

    with pytest.raises(EngineRejected) as err:
        await _all(_engine(handler), stream=False)
    assert err.value.param == "stop" and len(calls) == 1


async def test_stream_parses_content_tool_calls_and_usage() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["stream_options"] == {"include_usage": True}
        return httpx.Response(200, text=SSE, headers={"content-type": "text/event-stream"})

    events = await _all(_engine(handler), stream=True)
    deltas = [e for e in events if isinstance(e, Delta)]
    assert deltas[0].content == "Hel"
    assert deltas[1].tool_calls[0].name == "f" and deltas[1].finish_reason == "tool_calls"
    assert isinstance(events[-1], Usage) and events[-1].completion_tokens == 2


async def test_transport_errors_become_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(EngineUnavailable, match="unreachable"):
        await _all(_engine(handler, max_retries=1), stream=False)
