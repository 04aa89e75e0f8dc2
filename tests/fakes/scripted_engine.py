"""A scripted `Engine` for deterministic tests (implements `swarm.engine.Engine`).

Each call is routed to a script by a *key* (the agent) and a *turn* (the
agent's n-th call), never by the length of the conversation:

- the swarm names its engine requests `"<run_id>/<agent>/<task>/<step>"`, so the
  key is `<agent>` and the turn is `<step>`;
- any other request id maps to the key `""` and the turn counts its calls.

A script is a list of `Step`s (indexed by turn; the last one repeats) or a
callable `(request, turn) -> Step` for scripts that echo their task.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from swarm.engine import ChatRequest, Delta, EngineEvent, ModelInfo, ToolCallDelta, Usage
from tools.base import Json


@dataclass(slots=True)
class Call:
    """A scripted tool call; `arguments` may be a dict (dumped) or a raw (maybe broken) string."""

    name: str
    arguments: Json | str = field(default_factory=dict)

    def raw(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass(slots=True)
class Step:
    """One scripted model call: text and/or tool calls, then `Usage`."""

    content: str | None = None
    calls: Sequence[Call] = ()
    # Seconds before the first delta; None means the engine's default latency.
    latency_s: float | None = None
    # Content is streamed in this many pieces (exercises delta assembly).
    pieces: int = 2
    prompt_tokens: int = 10
    completion_tokens: int = 5
    # Raised instead of answering (e.g. `EngineUnavailable`).
    error: BaseException | None = None
    # Sleep forever after the first delta (a hung model, for timeouts/cancellation).
    hang: bool = False
    # Seconds between content pieces (a model producing tokens over time).
    piece_delay_s: float = 0.0
    # The finish reason to report (default: "tool_calls" with calls, else "stop").
    finish: str | None = None
    # Reasoning streamed before the content (a thinking model).
    reasoning: str | None = None
    # Tool-call ids to report, by call ("" = none, as an engine may leave it); default call_{i}.
    call_ids: Sequence[str] = ()
    # Raised after the first delta (a stream cut mid-way, e.g. `httpx.ReadTimeout`).
    cut: BaseException | None = None

    @property
    def finish_reason(self) -> str:
        return self.finish or ("tool_calls" if self.calls else "stop")


Script = Sequence[Step] | Callable[[ChatRequest, int], Step]


def say(text: str, **kw: Any) -> Step:
    """A step that answers with text."""
    return Step(content=text, **kw)


def call(name: str, arguments: Json | str | None = None, **kw: Any) -> Step:
    """A step that makes one tool call."""
    return Step(calls=[Call(name, {} if arguments is None else arguments)], **kw)


def calls(*items: tuple[str, Json | str], **kw: Any) -> Step:
    """A step that makes several tool calls in one turn (parallel tool calls)."""
    return Step(calls=[Call(n, a) for n, a in items], **kw)


def route(request_id: str) -> tuple[str, int | None]:
    """Split a swarm request id into (agent, step); other ids give ("", None)."""
    parts = request_id.split("/")
    if len(parts) == 4 and parts[3].isdigit():
        return parts[1], int(parts[3])
    return "", None


class ScriptedEngine:
    """Plays scripts; records every request, every abort and the peak concurrency."""

    def __init__(
        self,
        scripts: Mapping[str, Script],
        *,
        latency_s: float = 0.0,
        info: ModelInfo | None = None,
    ) -> None:
        self.scripts = dict(scripts)
        self.latency_s = latency_s
        self._info = info or ModelInfo(name="scripted", structured_outputs=True)
        self.requests: list[ChatRequest] = []
        self.aborted: list[str] = []
        self.finished: list[str] = []
        self.active = 0
        self.peak_active = 0
        self.closed = False
        self._turns: dict[str, int] = {}

    @property
    def info(self) -> ModelInfo:
        return self._info

    def requests_for(self, agent: str) -> list[ChatRequest]:
        """Requests routed to `agent` in arrival order."""
        return [r for r in self.requests if route(r.request_id)[0] == agent]

    def _pick(self, request: ChatRequest) -> Step:
        key, turn = route(request.request_id)
        if turn is None:
            turn = self._turns.get(key, 0)
            self._turns[key] = turn + 1
        script = self.scripts.get(key)
        if script is None:
            raise KeyError(f"no script for agent {key!r} (request {request.request_id!r})")
        if callable(script):
            return script(request, turn)
        if not script:
            raise KeyError(f"empty script for agent {key!r}")
        return script[min(turn, len(script) - 1)]

    async def stream(self, request: ChatRequest) -> AsyncIterator[EngineEvent]:
        self.requests.append(copy.deepcopy(request))
        step = self._pick(request)
        self.active += 1
        self.peak_active = max(self.peak_active, self.active)
        done = False
        try:
            async for event in self._play(step):
                yield event
            done = True
        finally:
            self.active -= 1
            (self.finished if done else self.aborted).append(request.request_id)

    async def _play(self, step: Step) -> AsyncIterator[EngineEvent]:
        latency = self.latency_s if step.latency_s is None else step.latency_s
        if latency > 0:
            await asyncio.sleep(latency)
        if step.error is not None:
            raise step.error
        if step.reasoning:
            yield Delta(reasoning=step.reasoning)
        for i, piece in enumerate(_split(step.content or "", step.pieces)):
            if i and step.piece_delay_s:
                await asyncio.sleep(step.piece_delay_s)
            yield Delta(content=piece)
            if step.cut is not None:
                raise step.cut
            if step.hang:
                await asyncio.Event().wait()
        for i, c in enumerate(step.calls):
            raw = c.raw()
            half = len(raw) // 2
            cid = step.call_ids[i] if i < len(step.call_ids) else f"call_{i}"
            yield Delta(
                tool_calls=[ToolCallDelta(i, id=cid or None, name=c.name, arguments=raw[:half])]
            )
            yield Delta(tool_calls=[ToolCallDelta(i, arguments=raw[half:])])
        if step.hang:
            await asyncio.Event().wait()
        yield Delta(finish_reason=step.finish_reason)
        yield Usage(prompt_tokens=step.prompt_tokens, completion_tokens=step.completion_tokens)

    async def close(self) -> None:
        self.closed = True


def _split(text: str, pieces: int) -> list[str]:
    if not text:
        return []
    size = max(1, -(-len(text) // max(1, pieces)))
    return [text[i : i + size] for i in range(0, len(text), size)]
