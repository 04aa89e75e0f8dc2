"""Raw endpoints through the upstream engine (`httpx.MockTransport`): paths, model, retries, SSE."""

from __future__ import annotations

import json

import httpx
import pytest

from server.engines.replica import Replica
from server.engines.upstream import UpstreamEngine
from swarm.engine import ModelInfo
from swarm.errors import EngineRejected

COMPLETION = {"id": "cmpl-1", "object": "text_completion", "choices": [{"text": "hi"}]}
RESPONSES_SSE = (
    'event: response.created\ndata: {"type":"response.created","sequence_number":0,'
    '"response":{"id":"resp_1","status":"in_progress"}}\n\n'
    'event: response.output_text.delta\ndata: {"type":"response.output_text.delta",'
    '"sequence_number":1,"delta":"Hel"}\n\n'
    'event: response.completed\ndata: {"type":"response.completed","sequence_number":2,'
    '"response":{"id":"resp_1","status":"completed"}}\n\n'
)


def _engine(handler: object) -> UpstreamEngine:
    transport = httpx.MockTransport(handler)  # type: ignore[arg-type]
    client = httpx.AsyncClient(transport=transport, base_url="http://up:8001/v1/")
    replica = Replica(client, "http://up:8001/v1")
    return UpstreamEngine([replica], ModelInfo(name="ours"), "theirs", backoff_s=0.001)


async def test_completions_use_the_upstream_model_and_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_sleep(_: float) -> None:
        return None

    monkeypatch.setattr("server.engines.upstream.asyncio.sleep", no_sleep)
    seen: list[tuple[str, dict[str, object]]] = []
    answers = [httpx.Response(503), httpx.Response(200, json=COMPLETION)]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), json.loads(request.content)))
        return answers.pop(0)

    result = await _engine(handler).call_openai("completions", {"model": "ours", "prompt": "x"})
    assert result == COMPLETION
    assert [url for url, _ in seen] == ["http://up:8001/v1/completions"] * 2
    assert seen[-1][1] == {"model": "theirs", "prompt": "x"}


async def test_tokenize_goes_to_the_server_root() -> None:
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(200, json={"tokens": [1, 2], "count": 2})

    engine = _engine(handler)
    assert (await engine.call_openai("tokenize", {"prompt": "x"}))["count"] == 2  # type: ignore[index]
    await engine.call_openai("detokenize", {"tokens": [1]})
    assert urls == ["http://up:8001/tokenize", "http://up:8001/detokenize"]


async def test_responses_stream_yields_each_event() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["stream"] is True
        return httpx.Response(
            200, text=RESPONSES_SSE, headers={"content-type": "text/event-stream"}
        )

    result = await _engine(handler).call_openai("responses", {"model": "ours", "stream": True})
    assert not isinstance(result, dict)
    types = [event["type"] async for event in result]
    assert types == ["response.created", "response.output_text.delta", "response.completed"]


async def test_upstream_4xx_is_rejected_with_its_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"error": {"message": "bad prompt", "param": "prompt", "code": 400}}
        return httpx.Response(400, json=body)

    with pytest.raises(EngineRejected) as info:
        await _engine(handler).call_openai("completions", {"prompt": 5})
    assert info.value.message == "bad prompt" and info.value.param == "prompt"
