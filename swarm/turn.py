"""One model call collected into a `Turn`: text, tool calls, finish reason, usage."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
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
        msg: Json = {"role": "assistant", "content": self.content or None}
        if self.calls:
            msg["tool_calls"] = [c.to_message() for c in self.calls]
        return msg

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
    async with aclosing(engine.stream(request)) as stream:  # type: ignore[type-var]
        async for event in stream:
            if isinstance(event, Usage):
                turn.usage += event
            elif event.choice == 0:
                turn.add(event)
                if forward is not None:
                    forward(event)
    for i, call in enumerate(turn.calls):
        call.id = call.id or f"call_{i}"
    return turn
