"""The engine interface the swarm and the HTTP layer share (docs/architecture.md).

An engine turns one chat request into a stream of events: `Delta`s (content,
reasoning, tool-call fragments, finish reason, logprobs) and one final `Usage`.
Closing or cancelling the consumer aborts the request inside the engine.
Implementations live in `server/engines/`; test doubles in `tests/`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from swarm.errors import EngineError, EngineRejected, EngineUnavailable
from tools.base import Json

__all__ = [
    "ChatRequest",
    "Delta",
    "Engine",
    "EngineError",
    "EngineEvent",
    "EngineRejected",
    "EngineUnavailable",
    "Json",
    "ModelInfo",
    "Sampling",
    "ToolCallDelta",
    "Usage",
]


@dataclass(slots=True)
class Sampling:
    """Sampling options; `None` means "the engine's default"."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] | None = None
    seed: int | None = None
    n: int = 1
    logprobs: bool = False
    top_logprobs: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    response_format: Json | None = None


@dataclass(slots=True)
class ChatRequest:
    """One model call: an OpenAI-shaped conversation plus options."""

    messages: list[Json]
    tools: list[Json] | None = None
    tool_choice: str | Json | None = None
    parallel_tool_calls: bool | None = None
    sampling: Sampling = field(default_factory=Sampling)
    chat_template_kwargs: Json | None = None
    # Engine-specific fields passed through untouched (e.g. vLLM's `top_k`).
    extra: Json = field(default_factory=dict)
    request_id: str = ""
    # Calls with one key share long prefixes (one swarm run): a replicated engine keeps them on
    # one replica, whose prefix cache holds them. "" = no affinity.
    affinity_key: str = ""
    # False lets an engine deliver each choice whole (one delta) instead of token by token.
    stream: bool = True


@dataclass(slots=True)
class ToolCallDelta:
    """A fragment of one tool call; `id` and `name` come with the first fragment."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)
class Delta:
    """An increment of one choice's assistant message."""

    choice: int = 0
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCallDelta] = field(default_factory=list)
    finish_reason: str | None = None
    # OpenAI-shaped `logprobs` object for this increment, when requested.
    logprobs: Json | None = None


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __iadd__(self, other: Usage) -> Usage:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.reasoning_tokens += other.reasoning_tokens
        return self


EngineEvent = Delta | Usage


@dataclass(slots=True, frozen=True)
class ModelInfo:
    name: str
    max_model_len: int | None = None
    # True when the engine can constrain outputs to a JSON schema.
    structured_outputs: bool = True
    multimodal: bool = False


@runtime_checkable
class Engine(Protocol):
    """What the swarm and the server need from a model backend."""

    @property
    def info(self) -> ModelInfo: ...

    def stream(self, request: ChatRequest) -> AsyncIterator[EngineEvent]:
        """Yield deltas then one `Usage`; raise an `EngineError` subclass on failure."""
        ...

    async def close(self) -> None: ...
