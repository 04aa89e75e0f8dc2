"""The direct path of the in-process engine: which requests take it, and vLLM's own
`RequestOutput`s (as `AsyncLLM.generate` yields them) turned into engine events.
The path end to end on the real engine: tests/e2e/test_smol_chat.py."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import pytest
from vllm.outputs import CompletionOutput, RequestOutput

from server.engines.vllm_direct import Direct, eligible
from swarm.engine import ChatRequest, Delta, Sampling, Usage
from swarm.errors import EngineRejected, EngineUnavailable

MSGS = [{"role": "user", "content": "hi"}]
TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}


@pytest.mark.parametrize(
    ("request_", "direct"),
    [
        (ChatRequest(MSGS), True),
        (ChatRequest(MSGS, extra={"top_k": 5, "ignore_eos": True}), True),
        (ChatRequest(MSGS, tools=[TOOL]), False),
        (ChatRequest(MSGS, sampling=Sampling(n=2)), False),
        (ChatRequest(MSGS, sampling=Sampling(logprobs=True)), False),
        (ChatRequest(MSGS, sampling=Sampling(response_format={"type": "json_object"})), False),
        (ChatRequest(MSGS, extra={"structured_outputs": {"json": {}}}), False),
        (ChatRequest(MSGS, extra={"echo": True}), False),
    ],
)
def test_only_plain_text_requests_go_direct(request_: ChatRequest, direct: bool) -> None:
    assert eligible(request_) is direct


def _out(text: str, ids: list[int], finish: str | None, prompt: bool = True) -> RequestOutput:
    done = finish is not None
    completion = CompletionOutput(0, text, ids, None, None, finish_reason=finish)
    return RequestOutput("r", None, [1, 2, 3, 4] if prompt else None, None, [completion], done)


async def _gen(items: list[Any]) -> AsyncGenerator[RequestOutput, None]:
    for item in items:
        if isinstance(item, Exception):
            raise item
        yield item


async def _events(items: list[Any]) -> list[Any]:
    return [e async for e in Direct(_gen(items)).events()]


async def test_streamed_deltas_then_usage() -> None:
    outs = [_out("Hel", [7], None), _out("lo", [8], None, False), _out("", [9], "length")]
    events = await _events(outs)
    assert events[:-1] == [
        Delta(content="Hel"),
        Delta(content="lo"),
        Delta(content=None, finish_reason="length"),
    ]
    assert events[-1] == Usage(prompt_tokens=4, completion_tokens=3)


async def test_a_whole_message_when_not_streamed() -> None:
    events = await _events([_out("Hello there", [7, 8, 9], "stop")])
    assert events == [Delta(content="Hello there", finish_reason="stop"), Usage(4, 3)]


async def test_engine_failures_map_to_engine_errors() -> None:
    with pytest.raises(EngineRejected, match="bad param"):
        await _events([_out("a", [1], None), ValueError("bad param")])
    with pytest.raises(EngineUnavailable, match="EngineDeadError"):
        await _events([type("EngineDeadError", (RuntimeError,), {})("dead")])
