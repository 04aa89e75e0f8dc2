"""The GenAI span tree of a scripted swarm run, from the real SDK's in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import propagate
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from swarm.engine import ChatRequest
from swarm.limits import SwarmLimits
from swarm.telemetry import TraceConfig
from tests.fakes.scripted_engine import Step, call, calls, say
from tests.swarm.conftest import Harness, make_harness, task_text

# No token budget: calls keep max_tokens unset, so the snapshot's attributes stay fixed.
NO_BUDGET = SwarmLimits(token_budget=None)

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
ORCH = [
    call("create_subagent", {"name": "adder", "system_prompt": "Add.", "tools": ["add", "boom"]}),
    calls(*(("assign_task", {"agent": "adder", "task": n}) for n in ("1", "2", "3"))),
    say("the sums"),
]
CONTENT = {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"}


def adder(request: ChatRequest, turn: int) -> Step:
    """Task n adds n + 1 (task 3 calls the failing tool); later tasks answer sooner."""
    n = int(task_text(request))
    latency = 0.03 * (4 - n)
    if turn == 0 and n == 3:
        return call("boom", {}, latency_s=latency)
    if turn == 0:
        return call("add", {"a": n, "b": 1}, latency_s=latency)
    return say(f"the sum for task {n}", latency_s=latency)


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.shutdown()


def traced(exporter: InMemorySpanExporter, capture: bool) -> Harness:
    harness = make_harness({"orchestrator": ORCH, "adder": adder}, limits=NO_BUDGET)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    harness.service.trace = TraceConfig(provider.get_tracer("test"), "vllm", capture)
    return harness


async def run_traced(harness: Harness, **raw: Any) -> str:
    """One run under a remote parent (as if from an incoming `traceparent`); the run id."""
    parent = propagate.extract({"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"})
    request = ChatRequest(messages=[{"role": "user", "content": "add things"}])
    run_id = ""
    options = harness.opts(tool_mode="auto", **raw)
    async for item in harness.service.run(request, options, parent=parent):
        run_id = getattr(item, "run_id", run_id)
    return run_id


def tree(spans: tuple[ReadableSpan, ...], run_id: str) -> list[dict[str, Any]]:
    """Spans as nested {name, attrs, children}, siblings in start order, run id normalised."""
    by_parent: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        by_parent.setdefault(span.parent.span_id if span.parent else None, []).append(span)

    def node(span: ReadableSpan) -> dict[str, Any]:
        attrs = {
            k: (v.replace(run_id, "<run>") if isinstance(v, str) else v)
            for k, v in (span.attributes or {}).items()
            if k not in CONTENT
        }
        attrs = {k: list(v) if isinstance(v, tuple) else v for k, v in attrs.items()}
        kids = sorted(by_parent.get(span.context.span_id, []), key=lambda s: s.start_time or 0)
        return {"name": span.name, "attrs": attrs, "children": [node(k) for k in kids]}

    roots = [node(s) for s in by_parent[int(PARENT_ID, 16)]]
    assert sum(map(size, roots)) == len(spans)  # no span outside the tree
    return roots


def size(node: dict[str, Any]) -> int:
    return 1 + sum(size(k) for k in node["children"])


def base(op: str) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": op,
        "gen_ai.provider.name": "vllm",
        "gen_ai.conversation.id": "<run>",
    }


def chat(reason: str) -> dict[str, Any]:
    attrs = base("chat") | {"gen_ai.request.model": "kimi-test"}
    attrs |= {"gen_ai.response.finish_reasons": [reason]}
    attrs |= {"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5}
    return {"name": "chat kimi-test", "attrs": attrs, "children": []}


def tool(name: str, args: str | None, result: str | None, error: bool = False) -> dict[str, Any]:
    attrs = base("execute_tool") | {"gen_ai.tool.name": name, "gen_ai.tool.call.id": "call_0"}
    attrs["gen_ai.tool.type"] = "function"
    if args is not None:
        attrs["gen_ai.tool.call.arguments"] = args
    if result is not None:
        attrs["gen_ai.tool.call.result"] = result
    if error:
        attrs["error.type"] = "tool_error"
    return {"name": f"execute_tool {name}", "attrs": attrs, "children": []}


def agent(
    name: str, children: list[dict[str, Any]], tokens: tuple[int, int], task: str | None = None
) -> dict[str, Any]:
    attrs = base("invoke_agent") | {"gen_ai.agent.name": name}
    attrs |= {"gen_ai.agent.id": f"<run>/{name}", "gen_ai.request.model": "kimi-test"}
    if task is not None:
        attrs["kimi_swarm.task.id"] = task
    attrs["kimi_swarm.status"] = "completed"
    attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"] = tokens
    return {"name": f"invoke_agent {name}", "attrs": attrs, "children": children}


def expected(content: bool) -> list[dict[str, Any]]:
    def task(n: int) -> dict[str, Any]:
        if n == 3:
            body = tool(
                "boom", "{}" if content else None, "boom failed: RuntimeError: kaboom", error=True
            )
            if not content:
                body["attrs"].pop("gen_ai.tool.call.result")
        else:
            args = f'{{"a": {n}, "b": 1}}' if content else None
            body = tool("add", args, str(n + 1) if content else None)
        # Two model calls of 10 prompt + 5 completion tokens each.
        return agent("adder", [chat("tool_calls"), body, chat("stop")], (20, 10), task=f"t{n}")

    create = base("create_agent") | {"gen_ai.agent.name": "adder", "gen_ai.agent.id": "<run>/adder"}
    create |= {"gen_ai.request.model": "kimi-test", "kimi_swarm.agent.tools": ["add", "boom"]}
    orchestrator = [
        chat("tool_calls"),
        {"name": "create_agent adder", "attrs": create, "children": []},
        chat("tool_calls"),
        task(1),
        task(2),
        task(3),
        chat("stop"),
    ]
    return [agent("orchestrator", orchestrator, (30 + 3 * 20, 15 + 3 * 10))]  # the whole run


async def test_span_tree_of_concurrent_subagents(exporter: InMemorySpanExporter) -> None:
    harness = traced(exporter, capture=False)
    run_id = await run_traced(harness)
    spans = exporter.get_finished_spans()
    assert harness.engine.peak_active == 3  # the three tasks overlapped
    assert {format(s.context.trace_id, "032x") for s in spans} == {TRACE_ID}
    assert tree(spans, run_id) == expected(content=False)
    assert not any(CONTENT & set(s.attributes or {}) for s in spans)  # content is opt-in


async def test_content_is_recorded_only_when_opted_in(exporter: InMemorySpanExporter) -> None:
    harness = traced(exporter, capture=True)
    run_id = await run_traced(harness)
    spans = exporter.get_finished_spans()
    assert tree(spans, run_id) == expected(content=True)
    by_name = {s.name: s for s in spans}
    create = by_name["create_agent adder"].attributes or {}
    assert create["gen_ai.system_instructions"] == '[{"type": "text", "content": "Add."}]'
    final = by_name["chat kimi-test"].attributes or {}  # the last chat span of that name
    assert '"content": "the sums"' in str(final.get("gen_ai.output.messages"))


async def test_failed_task_marks_its_span(exporter: InMemorySpanExporter) -> None:
    harness = traced(exporter, capture=False)
    await run_traced(harness, max_subagent_steps=1)
    tasks = [s for s in exporter.get_finished_spans() if s.name == "invoke_agent adder"]
    assert len(tasks) == 3
    for span in tasks:
        attrs = span.attributes or {}
        assert attrs["kimi_swarm.status"] == "failed" and attrs["error.type"] == "failed"
        assert span.status.status_code.name == "ERROR"


async def test_tracing_off_opens_no_span(exporter: InMemorySpanExporter) -> None:
    harness = make_harness({"orchestrator": ORCH, "adder": adder}, limits=NO_BUDGET)
    assert await run_traced(harness)
    assert exporter.get_finished_spans() == ()
