"""One model call collected into a `Turn`: text, tool calls, finish reason, usage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from swarm.engine import ChatRequest, Delta, Engine, Usage
from tools.base import Json

# Receives each delta of a call as the engine produces it (the answer turn streams live).
Forward = Callable[[Delta], None]


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str = ""

    def to_message(self) -> Json:
        fn = {"name": self.name, "arguments": self.arguments}
        return {"id": self.id, "type": "function", "function": fn}


@dataclass(slots=True)
class Turn:
    # Content as it streamed, piece by piece (re-emitted to the client for the final turn).
    pieces: list[str] = field(default_factory=list)
    reasoning: str = ""
    calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)

    @property
    def content(self) -> str:
        return "".join(self.pieces)

    def assistant_message(self) -> Json:
        """The turn as history. Reasoning stays (thinking models such as Kimi K2.5 are to see
        their own reasoning across tool-call turns; templates that do not use it ignore it)."""
        msg: Json = {"role": "assistant", "content": self.content or None}
        if self.reasoning:
            msg["reasoning_content"] = self.reasoning
        if self.calls:
            msg["tool_calls"] = [c.to_message() for c in self.calls]
        return msg

    def name_calls(self, history: list[Json], *, kimi: bool) -> None:
        """Give calls the engine left without an id one: Kimi's `functions.{name}:{idx}`
        (idx counts the conversation's tool calls, as Kimi's tool parser expects), else
        `call_{i}`."""
        if all(call.id for call in self.calls):
            return  # the usual case: no need to count the history's calls
        base = sum(len(m.get("tool_calls") or []) for m in history) if kimi else 0
        for i, call in enumerate(self.calls):
            if not call.id:
                call.id = f"functions.{call.name}:{base + i}" if kimi else f"call_{i}"

    def add(self, delta: Delta) -> None:
        if delta.content:
            self.pieces.append(delta.content)
        if delta.reasoning:
            self.reasoning += delta.reasoning
        for frag in delta.tool_calls:
            while len(self.calls) <= frag.index:
                self.calls.append(ToolCall(id="", name=""))
            call = self.calls[frag.index]
            call.id = frag.id or call.id
            call.name = frag.name or call.name
            call.arguments += frag.arguments
        if delta.finish_reason:
            self.finish_reason = delta.finish_reason


async def collect(engine: Engine, request: ChatRequest, forward: Forward | None = None) -> Turn:
    """Run one model call to completion; closing early (cancellation) aborts it in the engine."""
    turn = Turn()
    stream = engine.stream(request)
    try:
        async for event in stream:
            if isinstance(event, Usage):
                turn.usage += event
            elif event.choice == 0:
                turn.add(event)
                if forward is not None:
                    forward(event)
    finally:  # as `contextlib.aclosing`, without its two extra awaits per call
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
    return turn
