"""Raw OpenAI endpoints an engine serves as-is: completions, responses, tokenize, detokenize.

The swarm never needs these, so the interface lives on the server side. Bodies and
results are plain JSON (`dict`s); the HTTP layer owns validation errors and framing.
A streamed result is an async iterator of JSON events (closing it aborts the request).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, Protocol, runtime_checkable

from swarm.engine import Json

Endpoint = Literal["completions", "responses", "tokenize", "detokenize"]
# What a call returns: one JSON body, or (for `"stream": true`) a stream of JSON events.
RawResult = Json | AsyncIterator[Json]


@runtime_checkable
class OpenAIEndpoints(Protocol):
    async def call_openai(self, endpoint: Endpoint, body: Json) -> RawResult:
        """Serve one raw request; raise an `EngineError` subclass on failure."""
        ...
