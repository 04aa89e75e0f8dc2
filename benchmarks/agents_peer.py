"""The peer of `swarm_scheduler.py`: the same fan-out through the OpenAI Agents SDK.

Agents as tools with parallel tool calls, on a simulated model with the same latency and
script (the orchestrator calls the worker tool N times in one turn; each worker takes
`steps` model calls: `steps - 1` tool calls, then the answer).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

os.environ.setdefault("OPENAI_AGENTS_DISABLE_TRACING", "1")


async def peer_once(n: int, latency_s: float, steps: int) -> float:
    from agents import Agent, ModelSettings, Runner, function_tool
    from agents.items import ModelResponse
    from agents.models.interface import Model
    from agents.usage import Usage as AUsage
    from openai.types.responses import (
        ResponseFunctionToolCall,
        ResponseOutputMessage,
        ResponseOutputText,
    )

    def message(text: str) -> ResponseOutputMessage:
        part = ResponseOutputText(annotations=[], text=text, type="output_text")
        return ResponseOutputMessage(
            id="m", content=[part], role="assistant", status="completed", type="message"
        )

    def fcall(name: str, args: dict[str, Any], i: int) -> ResponseFunctionToolCall:
        return ResponseFunctionToolCall(
            arguments=json.dumps(args), call_id=f"c{i}", name=name, type="function_call"
        )

    class SimModel(Model):
        def __init__(self, role: str) -> None:
            self.role = role

        async def get_response(self, system_instructions, input, *args, **kwargs):  # type: ignore[no-untyped-def,override]
            await asyncio.sleep(latency_s)
            done = sum(
                1 for x in input if isinstance(x, dict) and x.get("type") == "function_call_output"
            )
            if self.role == "orchestrator" and done == 0:
                out: list[Any] = [fcall("worker", {"input": f"item {i}"}, i) for i in range(n)]
            elif self.role == "worker" and done < steps - 1:
                out = [fcall("noop", {}, done)]
            else:
                out = [message("a complete answer")]
            return ModelResponse(output=out, usage=AUsage(requests=1), response_id=None)

        def stream_response(self, *args, **kwargs):  # type: ignore[no-untyped-def,override]
            raise NotImplementedError

    @function_tool
    def noop() -> str:
        """Does nothing."""
        return "ok"

    settings = ModelSettings(parallel_tool_calls=True)
    worker = Agent(name="w", instructions="work", model=SimModel("worker"), tools=[noop])
    tool = worker.as_tool(tool_name="worker", tool_description="run one task", max_turns=steps + 2)
    orchestrator = Agent(
        name="orchestrator",
        instructions="fan out",
        model=SimModel("orchestrator"),
        tools=[tool],
        model_settings=settings,
    )
    t0 = time.perf_counter()
    await Runner.run(orchestrator, "go", max_turns=4)
    return time.perf_counter() - t0
