"""Swarm scheduler overhead: N independent tasks × k steps on a simulated model.

Every model call sleeps a fixed latency (50 ms) and answers from a script, so the
ideal wall time of a run is CriticalSteps × latency. Measured side by side, in one
process: our swarm (efficiency = ideal / measured), the same tasks run one at a
time (speedup), and the same fan-out through the OpenAI Agents SDK (agents as
tools, parallel tool calls) on the same simulated model (ratio_vs_peer = peer
time / swarm time). Peak traced memory per concurrent sub-agent at the largest N.

Run: python benchmarks/swarm_scheduler.py   (needs the `bench` extra)
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OPENAI_AGENTS_DISABLE_TRACING", "1")

from swarm.engine import ChatRequest, Delta, EngineEvent, ModelInfo, ToolCallDelta, Usage
from swarm.limits import SwarmLimits
from swarm.service import SwarmService
from swarm.store import open_store
from tools.base import ToolContext, ToolRegistry, ToolResult, ToolSpec

LATENCY_S = 0.05
STEPS = 3  # k: model calls per sub-agent task (k-1 tool calls, then the answer)
NS = (1, 8, 64, 256)
REPEATS = 3


class Noop:
    spec = ToolSpec("noop", "Does nothing.", {"type": "object", "properties": {}})

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return ToolResult("ok")


class SimEngine:
    """Scripted by request id (`run/agent/task/step`): orchestrator fans out N, workers take k steps."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._info = ModelInfo(name="sim-gpt-", structured_outputs=False)

    @property
    def info(self) -> ModelInfo:
        return self._info

    async def stream(self, request: ChatRequest) -> AsyncIterator[EngineEvent]:
        _, agent, _, step = request.request_id.split("/")
        await asyncio.sleep(LATENCY_S)
        for delta in self._script(agent, int(step)):
            yield delta
        yield Usage(prompt_tokens=10, completion_tokens=5)

    def _script(self, agent: str, step: int) -> list[Delta]:
        if agent == "orchestrator" and step == 0:
            calls = [("create_subagent", {"name": "w", "system_prompt": "work", "tools": ["noop"]})]
            calls += [("assign_task", {"agent": "w", "task": f"item {i}"}) for i in range(self.n)]
            frags = [
                ToolCallDelta(i, f"c{i}", name, json.dumps(a)) for i, (name, a) in enumerate(calls)
            ]
            return [Delta(tool_calls=frags), Delta(finish_reason="tool_calls")]
        if agent == "w" and step < STEPS - 1:
            return [
                Delta(tool_calls=[ToolCallDelta(0, "n0", "noop", "{}")]),
                Delta(finish_reason="tool_calls"),
            ]
        return [Delta(content="a complete answer"), Delta(finish_reason="stop")]

    async def close(self) -> None:
        return None


async def swarm_once(n: int, concurrent: int) -> tuple[float, int]:
    limits = SwarmLimits(max_subagents=max(n, 1), max_concurrent=concurrent, store_path=":memory:")
    service = SwarmService(SimEngine(n), ToolRegistry([Noop()]), open_store(":memory:"), limits)
    request = ChatRequest(messages=[{"role": "user", "content": "go"}])
    t0 = time.perf_counter()
    summary: Any = None
    async for item in service.run(request, service.options(None)):
        summary = item
    elapsed = time.perf_counter() - t0
    service.store.close()
    return elapsed, summary.critical_steps


async def peer_once(n: int) -> float:
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
            await asyncio.sleep(LATENCY_S)
            done = sum(
                1 for x in input if isinstance(x, dict) and x.get("type") == "function_call_output"
            )
            if self.role == "orchestrator" and done == 0:
                out: list[Any] = [fcall("worker", {"input": f"item {i}"}, i) for i in range(n)]
            elif self.role == "worker" and done < STEPS - 1:
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
    tool = worker.as_tool(tool_name="worker", tool_description="run one task", max_turns=STEPS + 2)
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


async def median(fn: Any, *args: Any) -> float:
    return statistics.median([(await fn(*args)) for _ in range(REPEATS)])


async def traced_peak(coro_fn: Any, *args: Any) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    await coro_fn(*args)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


async def main() -> None:
    rows: dict[str, dict[str, float]] = {}
    for n in NS:
        swarm_runs = [await swarm_once(n, n) for _ in range(REPEATS)]
        measured = statistics.median(t for t, _ in swarm_runs)
        critical = swarm_runs[0][1]
        ideal = critical * LATENCY_S
        sequential, _ = await swarm_once(n, 1)
        peer = await median(peer_once, n)
        rows[str(n)] = {
            "critical_steps": critical,
            "ideal_s": round(ideal, 4),
            "swarm_s": round(measured, 4),
            "sequential_s": round(sequential, 4),
            "peer_s": round(peer, 4),
            "efficiency": round(ideal / measured, 4),
            "peer_efficiency": round(ideal / peer, 4),
            "speedup_vs_sequential": round(sequential / measured, 2),
            "ratio_vs_peer": round(peer / measured, 4),
        }
        print(f"N={n:4d} k={STEPS}: {rows[str(n)]}", flush=True)
    n_max = NS[-1]

    async def swarm_wide() -> None:
        await swarm_once(n_max, n_max)

    async def peer_wide() -> None:
        await peer_once(n_max)

    swarm_kib = await traced_peak(swarm_wide) / n_max / 1024
    peer_kib = await traced_peak(peer_wide) / n_max / 1024
    top = rows[str(n_max)]
    result = {
        "claim": "swarm scheduler overhead vs ideal critical path, sequential and a peer library",
        "latency_s": LATENCY_S,
        "k": STEPS,
        "peer": f"openai-agents {metadata.version('openai-agents')}",
        "rows": rows,
        "efficiency": {n: r["efficiency"] for n, r in rows.items()},
        "speedup_vs_sequential": {n: r["speedup_vs_sequential"] for n, r in rows.items()},
        "ratio_vs_peer": {n: r["ratio_vs_peer"] for n, r in rows.items()},
        "peak_kib_per_subagent": {"swarm": round(swarm_kib, 1), "peer": round(peer_kib, 1)},
        "goals_met": top["efficiency"] >= 0.95 and top["ratio_vs_peer"] >= 1.0,
        "ratio": top["ratio_vs_peer"],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
