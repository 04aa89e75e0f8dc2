"""Every class of bad input gets an OpenAI-shaped 4xx naming what to fix; the server keeps serving."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.server.conftest import AppMaker
from tests.server.fake_engine import ReplyEngine

OK = {"model": "fake", "messages": [{"role": "user", "content": "hi"}]}
TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}


def _assert_error(r: httpx.Response, status: int, param: str | None, words: str) -> None:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["param"] == param
    assert words.lower() in err["message"].lower()
    assert "Traceback" not in r.text


CASES: list[tuple[str, Any, int, str | None, str]] = [
    ("malformed json", b'{"model": "fake", "messages": [', 400, None, "could not parse the JSON"),
    ("not an object", b"[1, 2]", 400, None, "must be a JSON object"),
    ("missing messages", {"model": "fake"}, 400, "messages", "missing required parameter"),
    ("wrong type", {**OK, "temperature": "hot"}, 400, "temperature", "invalid value"),
    ("wrong nested type", {"model": "fake", "messages": [{"role": "user", "content": 5}]}, 400,
     "messages[0].content", "invalid value"),
    ("bad role", {"model": "fake", "messages": [{"role": "robot", "content": "x"}]}, 400,
     "messages[0].role", "invalid value"),
    ("empty messages", {"model": "fake", "messages": []}, 400, "messages", "at least 1"),
    ("tool without id", {"model": "fake", "messages": [{"role": "tool", "content": "x"}]}, 400,
     "messages[0]", "tool_call_id"),
    ("invalid tool schema", {**OK, "tools": [{"type": "function", "function": {
        "name": "f", "parameters": {"type": "objekt"}}}]}, 400, "tools[0].function.parameters",
     "invalid JSON schema"),
    ("bad tool name", {**OK, "tools": [{"type": "function", "function": {"name": "a b"}}]}, 400,
     "tools[0].function.name", "must match"),
    ("tool_choice names missing tool", {**OK, "tools": [TOOL], "tool_choice": {
        "type": "function", "function": {"name": "g"}}}, 400, "tool_choice", "not in 'tools'"),
    ("required without tools", {**OK, "tool_choice": "required"}, 400, "tool_choice", "needs 'tools'"),
    ("stream_options without stream", {**OK, "stream_options": {"include_usage": True}}, 400,
     "stream_options", "only allowed when 'stream' is true"),
    ("top_logprobs without logprobs", {**OK, "top_logprobs": 3}, 400, "top_logprobs", "logprobs"),
    ("n out of range", {**OK, "n": 0}, 400, "n", "invalid value"),
    ("bad response_format", {**OK, "response_format": {"type": "json_schema"}}, 400,
     "response_format", "json_schema.schema"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "body", "status", "param", "words"), CASES, ids=[c[0] for c in CASES]
)
async def test_bad_input(
    client: httpx.AsyncClient, engine: ReplyEngine, name: str, body: Any, status: int,
    param: str | None, words: str,
) -> None:  # fmt: skip
    kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
    r = await client.post("/v1/chat/completions", **kwargs)  # type: ignore[arg-type]
    _assert_error(r, status, param, words)
    assert engine.requests == []  # rejected before any model work
    ok = await client.post("/v1/chat/completions", json=OK)
    assert ok.status_code == 200  # and the server keeps serving


async def test_unknown_model_is_404(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/chat/completions", json={**OK, "model": "gpt-9"})
    _assert_error(r, 404, "model", "does not exist")
    assert r.json()["error"]["code"] == "model_not_found"


async def test_oversized_body_is_413(make_app: AppMaker) -> None:
    app = make_app(max_body_bytes=1024)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as c,
    ):
        big = {**OK, "messages": [{"role": "user", "content": "x" * 5000}]}
        r = await c.post("/v1/chat/completions", json=big)
        _assert_error(r, 413, None, "exceeds the server limit")

        # A chunked body without Content-Length is counted as it arrives.
        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(10):
                yield b"x" * 200

        r = await c.post("/v1/chat/completions", content=chunks())
        _assert_error(r, 413, None, "exceeds the server limit")


async def test_engine_rejection_maps_to_400(client: httpx.AsyncClient, engine: ReplyEngine) -> None:
    from swarm.errors import EngineRejected

    engine.fail_with = EngineRejected(
        "This model's maximum context length is 64 tokens.", param="input_tokens"
    )
    r = await client.post("/v1/chat/completions", json=OK)
    _assert_error(r, 400, "input_tokens", "maximum context length")
    assert r.json()["error"]["code"] == "context_length_exceeded"


async def test_engine_outage_is_503_without_traceback(
    client: httpx.AsyncClient, engine: ReplyEngine
) -> None:
    from swarm.errors import EngineUnavailable

    engine.fail_with = EngineUnavailable("connection refused")
    r = await client.post("/v1/chat/completions", json={**OK, "stream": True})
    assert r.status_code == 503
    assert r.json()["error"]["type"] == "server_error"


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await client.get("/v1/chat/completions")
    assert r.status_code == 405 and "error" in r.json()
