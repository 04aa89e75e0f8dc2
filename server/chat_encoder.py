"""Request outputs → OpenAI chat-completion chunks, and the collector that builds a response.

The non-streaming response is the collected stream: one core, two renderings. Both are
`OutputHandler`s: `swarm.outputs.dispatch` is the one place that tells outputs apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from swarm import codec
from swarm.engine import Delta, Json, ToolCallDelta, Usage
from swarm.events import SwarmEvent
from swarm.ledger import RunSummary


@dataclass(slots=True)
class CompletionMeta:
    id: str
    model: str
    created: int = field(default_factory=lambda: int(time.time()))


def usage_dict(usage: Usage) -> Json:
    out: Json = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.reasoning_tokens:
        out["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return out


def _tool_call_delta(tc: ToolCallDelta) -> Json:
    fn: Json = {"arguments": tc.arguments}
    out: Json = {"index": tc.index, "function": fn}
    if tc.id is not None:
        out["id"] = tc.id
        out["type"] = "function"
    if tc.name is not None:
        fn["name"] = tc.name
    return out


class ChunkEncoder:
    """Turns outputs into `chat.completion.chunk` dicts, None for outputs the client did not ask
    for (first delta per choice carries the role)."""

    def __init__(
        self, meta: CompletionMeta, *, include_usage: bool = False, include_events: bool = False
    ) -> None:
        self.meta = meta
        self.include_usage = include_usage
        self.include_events = include_events
        # Every usage seen, sent or not (the server's token counters read it).
        self.usage_seen = Usage()
        self._started: set[int] = set()

    def _chunk(self, choices: list[Json], **extra: Any) -> Json:
        m = self.meta
        base: Json = {"id": m.id, "object": "chat.completion.chunk", "created": m.created}
        return {**base, "model": m.model, "choices": choices, **extra}

    def delta(self, d: Delta) -> Json:
        body: Json = {}
        if d.choice not in self._started:
            self._started.add(d.choice)
            body["role"] = "assistant"
        if d.content is not None:
            body["content"] = d.content
        if d.reasoning is not None:
            body["reasoning_content"] = d.reasoning
        if d.tool_calls:
            body["tool_calls"] = [_tool_call_delta(tc) for tc in d.tool_calls]
        choice = {
            "index": d.choice,
            "delta": body,
            "logprobs": d.logprobs,
            "finish_reason": d.finish_reason,
        }
        return self._chunk([choice])

    def usage(self, u: Usage) -> Json | None:
        self.usage_seen += u
        return self._chunk([], usage=usage_dict(u)) if self.include_usage else None

    def event(self, e: SwarmEvent) -> Json | None:
        return self._chunk([], swarm=e.to_dict()) if self.include_events else None

    def summary(self, s: RunSummary) -> Json | None:
        """Sent to clients that asked for usage or events (a `choices: []` chunk is opt-in)."""
        if not (self.include_usage or self.include_events):
            return None
        return self._chunk([], swarm={"type": "run.summary", **s.to_dict()})


def encode(chunk: Json) -> bytes:
    return b"data: " + codec.dumpb(chunk) + b"\n\n"


@dataclass(slots=True)
class _Choice:
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    tool_calls: dict[int, Json] = field(default_factory=dict)
    logprobs: list[Json] = field(default_factory=list)
    finish_reason: str | None = None
    has_logprobs: bool = False

    def add(self, d: Delta) -> None:
        if d.content:
            self.content.append(d.content)
        if d.reasoning:
            self.reasoning.append(d.reasoning)
        for tc in d.tool_calls:
            call = self.tool_calls.setdefault(
                tc.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
            )
            call["id"] = tc.id or call["id"]
            call["function"]["name"] = tc.name or call["function"]["name"]
            call["function"]["arguments"] += tc.arguments
        if d.logprobs is not None:
            self.has_logprobs = True
            self.logprobs.extend(d.logprobs.get("content") or [])
        self.finish_reason = d.finish_reason or self.finish_reason

    def render(self, index: int) -> Json:
        message: Json = {"role": "assistant", "content": "".join(self.content) or None}
        if self.reasoning:
            message["reasoning_content"] = "".join(self.reasoning)
        if self.tool_calls:
            message["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        logprobs = {"content": self.logprobs} if self.has_logprobs else None
        finish = self.finish_reason or "stop"
        return {"index": index, "message": message, "logprobs": logprobs, "finish_reason": finish}


class Collector:
    """Accumulates deltas and usage into one `chat.completion` object."""

    def __init__(self, meta: CompletionMeta) -> None:
        self.meta = meta
        self._choices: dict[int, _Choice] = {}
        self.usage_total = Usage()
        self.extra: Json = {}

    def delta(self, d: Delta) -> None:
        self._choices.setdefault(d.choice, _Choice()).add(d)

    def usage(self, u: Usage) -> None:
        self.usage_total = u

    def event(self, e: SwarmEvent) -> None:
        pass  # the trace is not part of a completion object

    def summary(self, s: RunSummary) -> None:
        self.extra["swarm"] = s.to_dict()

    def response(self) -> Json:
        m = self.meta
        choices = [c.render(i) for i, c in sorted(self._choices.items())]
        return {
            "id": m.id,
            "object": "chat.completion",
            "created": m.created,
            "model": m.model,
            "choices": choices,
            "usage": usage_dict(self.usage_total),
            **self.extra,
        }
