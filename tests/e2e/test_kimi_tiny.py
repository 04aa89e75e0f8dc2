"""The tiny Kimi K2.5 (dummy weights) with vLLM's kimi_k2 tool and reasoning parsers, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.servers import ServerProcess, start_server

pytestmark = pytest.mark.engine

TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]


@pytest.fixture(scope="module")
def client(kimi_server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=kimi_server.base_url, api_key="unused", max_retries=0)


def test_thinking_mode_routes_text_to_reasoning(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="kimi-tiny",
        messages=[{"role": "user", "content": "hello"}],
        max_tokens=8,
        temperature=0,
    )
    msg = r.choices[0].message
    # Random weights never emit </think>: the kimi_k2 reasoning parser keeps it all as reasoning.
    assert getattr(msg, "reasoning_content", None)
    assert msg.content is None
    assert r.usage is not None and r.usage.completion_tokens == 8


def test_instant_mode_streams_content_with_tools(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="kimi-tiny", messages=[{"role": "user", "content": "hi"}], tools=TOOLS,
        max_tokens=8, temperature=0, stream=True, stream_options={"include_usage": True},
        extra_body={"chat_template_kwargs": {"thinking": False}},
    )  # fmt: skip
    text, finish, usage = "", None, None
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            assert getattr(choice.delta, "reasoning_content", None) is None
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
    assert text and finish == "length"
    assert usage is not None and usage.completion_tokens == 8


@pytest.fixture(scope="module")
def upstream_proxy(kimi_server: ServerProcess) -> Iterator[ServerProcess]:
    server = start_server(["--upstream", kimi_server.base_url, "--served-model-name", "proxied"])
    yield server
    server.stop()


def test_upstream_mode_serves_through_httpx(upstream_proxy: ServerProcess) -> None:
    client = openai.OpenAI(base_url=upstream_proxy.base_url, api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list()] == ["proxied", "proxied-swarm"]
    r = client.chat.completions.create(
        model="proxied", messages=[{"role": "user", "content": "hello"}], max_tokens=5,
        extra_body={"chat_template_kwargs": {"thinking": False}},
    )  # fmt: skip
    assert r.choices[0].message.content and r.usage is not None and r.usage.completion_tokens == 5
    stream = client.chat.completions.create(
        model="proxied", messages=[{"role": "user", "content": "hello"}], max_tokens=5, stream=True,
        extra_body={"chat_template_kwargs": {"thinking": False}},
    )  # fmt: skip
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="proxied", messages=[{"role": "user", "content": "x " * 5000}], max_tokens=5
        )
