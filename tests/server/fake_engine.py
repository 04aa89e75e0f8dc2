"""A fake `Engine` for HTTP-edge tests: replays a fixed reply and records what happened."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from swarm.engine import ChatRequest, Delta, EngineEvent, ModelInfo, ToolCallDelta, Usage
from swarm.errors import EngineError


@dataclass
class ReplyEngine:
    """Streams `reply` word by word (or `tool_call` in two fragments), then usage."""

    reply: str = "Hello there friend"
    tool_call: tuple[str, str] | None = None
    delay_s: float = 0.0
    fail_with: EngineError | None = None
    requests: list[ChatRequest] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name="fake", max_model_len=64)

    def stream(self, request: ChatRequest) -> AsyncGenerator[EngineEvent, None]:
        return self._stream(request)

    async def _stream(self, request: ChatRequest) -> AsyncGenerator[EngineEvent, None]:
        self.requests.append(request)
        if self.fail_with is not None:
            raise self.fail_with
        done = False
        try:
            for delta in self._deltas(request):
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                yield delta
            yield Usage(prompt_tokens=5, completion_tokens=len(self.reply.split()))
            done = True
        finally:
            (self.finished if done else self.aborted).append(request.request_id)

    def _deltas(self, request: ChatRequest) -> list[Delta]:
        out: list[Delta] = []
        for choice in range(request.sampling.n):
            if self.tool_call is not None:
                name, args = self.tool_call
                half = len(args) // 2
                out.append(
                    Delta(choice, tool_calls=[ToolCallDelta(0, "call_1", name, args[:half])])
                )
                out.append(Delta(choice, tool_calls=[ToolCallDelta(0, arguments=args[half:])]))
                out.append(Delta(choice, finish_reason="tool_calls"))
                continue
            words = self.reply.split(" ")
            out += [Delta(choice, content=(" " if i else "") + w) for i, w in enumerate(words)]
            out.append(Delta(choice, finish_reason="stop"))
        return out

    async def close(self) -> None:
        return None


@asynccontextmanager
async def serving(engine: ReplyEngine) -> AsyncIterator[ReplyEngine]:
    yield engine
