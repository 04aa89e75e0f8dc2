"""Upstream streams that break mid-way become `EngineUnavailable` (transient: the swarm retries)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from server.engines.replica import Replica
from server.engines.upstream import UpstreamEngine
from swarm.engine import ChatRequest, ModelInfo
from swarm.errors import EngineRejected, EngineUnavailable

HEAD = (
    b'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}\n\n'
    b'data: {"choices":[{"index":0,"delta":{"content":"lo"}}]}\n\n'
)


class Body(httpx.AsyncByteStream):
    """The first frames, then either a transport error or a silent end (a cut stream)."""

    def __init__(self, error: Exception | None) -> None:
        self.error = error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield HEAD
        if self.error is not None:
            raise self.error


def _engine(error: Exception | None) -> UpstreamEngine:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, stream=Body(error), headers={"content-type": "text/event-stream"}
        )

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://up/v1/")
    return UpstreamEngine(
        [Replica(client, "http://up/v1")], ModelInfo(name="m"), "m", backoff_s=0.001
    )


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (httpx.ReadTimeout("timed out"), "upstream stream broke: ReadTimeout: timed out"),
        (httpx.RemoteProtocolError("peer closed"), "RemoteProtocolError: peer closed"),
        (None, "upstream stream ended before its finish reason"),
    ],
)
async def test_a_stream_broken_mid_way_is_engine_unavailable(
    error: Exception | None, said: str
) -> None:
    engine = _engine(error)
    seen = []
    with pytest.raises(EngineUnavailable, match=said):
        async for event in engine.stream(ChatRequest(messages=[{"role": "user", "content": "x"}])):
            seen.append(event)
    assert len(seen) == 2  # what arrived before the break was delivered
    await engine.close()


@pytest.mark.parametrize(
    ("status", "calls"),
    [(429, 5), (500, 5), (502, 5), (503, 5), (504, 5), (501, 1), (400, 1), (404, 1)],
)
async def test_retries_match_the_readme(status: int, calls: int) -> None:
    """README: connection errors, 429 and 5xx except 501 are retried, 4 times at most."""
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(status)
        return httpx.Response(status, json={"error": {"message": "no"}})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://up/v1/")
    engine = UpstreamEngine(
        [Replica(client, "http://up/v1")], ModelInfo(name="m"), "m", backoff_s=0.001
    )
    with pytest.raises((EngineUnavailable, EngineRejected)):
        async for _ in engine.stream(ChatRequest(messages=[{"role": "user", "content": "x"}])):
            pass
    assert len(seen) == calls
    await engine.close()
