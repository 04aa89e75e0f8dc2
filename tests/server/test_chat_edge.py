"""The HTTP edge on a fake engine: streaming shape, collecting, heartbeats, auth, cancellation."""

from __future__ import annotations

import asyncio
import json

import httpx

from server.context import AppContext, ServerSettings
from server.routes.chat import chat_completions  # noqa: F401  (route under test)
from tests.server.conftest import AppMaker
from tests.server.fake_engine import ReplyEngine

BODY = {"model": "fake", "messages": [{"role": "user", "content": "hi"}]}


def _events(text: str) -> list[str]:
    return [line[6:] for line in text.split("\n") if line.startswith("data: ")]


async def test_non_streaming_collects_the_stream(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/chat/completions", json={**BODY, "n": 2})
    data = r.json()
    assert [c["message"]["content"] for c in data["choices"]] == ["Hello there friend"] * 2
    assert [c["finish_reason"] for c in data["choices"]] == ["stop", "stop"]
    assert data["usage"] == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    assert data["object"] == "chat.completion" and data["model"] == "fake"


async def test_streaming_chunks_role_once_usage_last_then_done(client: httpx.AsyncClient) -> None:
    body = {**BODY, "stream": True, "stream_options": {"include_usage": True}}
    r = await client.post("/v1/chat/completions", json=body)
    assert r.headers["content-type"].startswith("text/event-stream")
    events = _events(r.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert [d.get("role") for d in deltas].count("assistant") == 1
    assert "".join(d.get("content", "") for d in deltas) == "Hello there friend"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 8
    assert len({c["id"] for c in chunks}) == 1


async def test_streamed_tool_call_deltas_keep_index(
    client: httpx.AsyncClient, engine: ReplyEngine
) -> None:
    engine.tool_call = ("lookup", '{"q": "paris"}')
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    r = await client.post("/v1/chat/completions", json={**BODY, "tools": [tool], "stream": True})
    chunks = [json.loads(e) for e in _events(r.text)[:-1]]
    calls = [tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls", [])]
    assert [tc["index"] for tc in calls] == [0, 0]
    assert calls[0]["id"] == "call_1" and calls[0]["function"]["name"] == "lookup"
    assert "".join(tc["function"]["arguments"] for tc in calls) == '{"q": "paris"}'
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    whole = (await client.post("/v1/chat/completions", json={**BODY, "tools": [tool]})).json()
    call = whole["choices"][0]["message"]["tool_calls"][0]
    assert call == {"id": "call_1", "type": "function",
                    "function": {"name": "lookup", "arguments": '{"q": "paris"}'}}  # fmt: skip


async def test_request_is_converted_for_the_engine(
    client: httpx.AsyncClient, engine: ReplyEngine
) -> None:
    body = {**BODY, "max_tokens": 9, "stop": "x", "top_k": 5,
            "chat_template_kwargs": {"thinking": False}}  # fmt: skip
    await client.post("/v1/chat/completions", json=body)
    req = engine.requests[-1]
    assert req.sampling.max_tokens == 9 and req.sampling.stop == ["x"]
    assert req.extra == {"top_k": 5}  # vLLM extensions pass through
    assert req.chat_template_kwargs == {"thinking": False}
    assert req.stream is False


async def test_heartbeat_comments_while_idle(make_app: AppMaker, engine: ReplyEngine) -> None:
    engine.delay_s = 0.12
    app = make_app(heartbeat_s=0.05)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        r = await c.post("/v1/chat/completions", json={**BODY, "stream": True})
    assert ": ping" in r.text
    assert (
        "".join(
            json.loads(e)["choices"][0]["delta"].get("content", "") for e in _events(r.text)[:-1]
        )
        == "Hello there friend"
    )


async def test_api_key_required_on_v1_only(make_app: AppMaker) -> None:
    app = make_app(api_keys=("sekret",))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        r = await c.post("/v1/chat/completions", json=BODY)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
        r = await c.get("/v1/models", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401
        r = await c.get("/v1/models", headers={"Authorization": "Bearer sekret"})
        assert r.status_code == 200 and r.json()["data"][0]["id"] == "fake"
        assert (await c.get("/health")).status_code == 200


async def test_request_id_header_is_echoed_never_an_engine_id(
    client: httpx.AsyncClient, engine: ReplyEngine
) -> None:
    same = {"X-Request-Id": "abc"}
    replies = await asyncio.gather(
        *(client.post("/v1/chat/completions", json=BODY, headers=same) for _ in range(2))
    )
    assert [r.headers["x-request-id"] for r in replies] == ["abc", "abc"]
    engine_ids = [req.request_id for req in engine.requests]
    assert len(set(engine_ids)) == 2 and "abc" not in engine_ids  # ours, one per request
    assert {r.json()["id"] for r in replies} == {f"chatcmpl-{i}" for i in engine_ids}
    r = await client.get("/v1/models")
    assert len(r.headers["x-request-id"]) == 32


async def test_disconnect_mid_stream_aborts_engine_request(engine: ReplyEngine) -> None:
    """Drive the ASGI app by hand and disconnect after the first chunk."""
    from server.app import create_app
    from tests.server.fake_engine import serving

    engine.delay_s = 0.05
    engine.reply = " ".join(["word"] * 200)
    app = create_app(AppContext(ServerSettings(served_name="fake")), lambda: serving(engine))
    body = json.dumps({**BODY, "stream": True}).encode()
    sent: list[dict[str, object]] = []
    first_chunk = asyncio.Event()
    disconnect = asyncio.Event()
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, object]:
        if messages:
            return messages.pop()
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            first_chunk.set()

    scope = {"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": [],
             "query_string": b"", "http_version": "1.1", "scheme": "http", "root_path": "",
             "server": ("t", 80), "client": ("127.0.0.1", 1), "asgi": {"version": "3.0"}}  # fmt: skip
    async with app.router.lifespan_context(app):
        task = asyncio.create_task(app(scope, receive, send))  # type: ignore[arg-type]
        await asyncio.wait_for(first_chunk.wait(), 5)
        disconnect.set()
        await asyncio.wait_for(task, 5)
    assert len(engine.aborted) == 1 and engine.finished == []
    assert {t for t in asyncio.all_tasks() if t is not asyncio.current_task()} == set()
