"""OpenTelemetry spans of one swarm run, after the GenAI semantic conventions.

Spans are parented explicitly, never through the ambient context: a `RunTrace` keeps the
open agent span of each agent instance ("orchestrator", "t1", ...) and every chat or tool
span names the instance it belongs to, so concurrent sub-agents nest under their own task.

    invoke_agent orchestrator          (parent: the caller's context, e.g. the HTTP span)
    ├── chat {model}                   (one per model call)
    ├── create_agent {name}
    └── invoke_agent {name}            (one per sub-agent task)
        ├── chat {model}
        └── execute_tool {tool}

With no tracer every method returns at once. Message content (prompts, answers, tool
arguments and results) is recorded only when `capture_content` is on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from swarm.engine import ChatRequest, Usage
from swarm.protocol_tools import ORCHESTRATOR as ROOT
from swarm.turn import Turn
from tools.base import Json


@dataclass(slots=True, frozen=True)
class TraceConfig:
    """What the server hands the swarm: a tracer (None: off), the provider name, content opt-in."""

    tracer: Tracer | None = None
    provider: str = "vllm"
    capture_content: bool = False


class SpanRecorder:
    """Adds a span's closing attributes; the recorder of a switched-off trace ignores them."""

    __slots__ = ("content", "span")

    def __init__(self, span: Span | None, content: bool = False) -> None:
        self.span = span
        self.content = content

    def turn(self, turn: Turn) -> None:
        """A model call's outcome: finish reason, token usage, the assistant message."""
        if self.span is None:
            return
        reason = turn.finish_reason or "unknown"
        self.span.set_attribute("gen_ai.response.finish_reasons", [reason])
        self.span.set_attribute("gen_ai.usage.input_tokens", turn.usage.prompt_tokens)
        self.span.set_attribute("gen_ai.usage.output_tokens", turn.usage.completion_tokens)
        if self.content:
            output = _messages([turn.assistant_message()], reason)
            self.span.set_attribute("gen_ai.output.messages", output)

    def tool_result(self, text: str, is_error: bool) -> None:
        if self.span is None:
            return
        if self.content:
            self.span.set_attribute("gen_ai.tool.call.result", text)
        if is_error:
            _fail(self.span, "tool_error", text[:200])

    def finish(self, status: str, reason: str | None = None, usage: Usage | None = None) -> None:
        """An agent invocation's end status (`completed`, `failed`, ...) and its tokens."""
        if self.span is None:
            return
        self.span.set_attribute("kimi_swarm.status", status)
        if usage is not None:
            self.span.set_attribute("gen_ai.usage.input_tokens", usage.prompt_tokens)
            self.span.set_attribute("gen_ai.usage.output_tokens", usage.completion_tokens)
        if status not in ("completed", "requires_action"):
            _fail(self.span, status, reason or status)


OFF = SpanRecorder(None)
_OFF_CM = nullcontext(OFF)


class RunTrace:
    """The spans of one run, by agent instance key; all no-ops when the config has no tracer."""

    def __init__(
        self, config: TraceConfig, run_id: str, model: str, parent: Context | None = None
    ) -> None:
        self._config = config
        self._tracer = config.tracer
        self._run_id = run_id
        self._model = model
        self._parent = parent
        self._agents: dict[str, Span] = {}

    @property
    def on(self) -> bool:
        return self._tracer is not None

    def _base(self, operation: str) -> dict[str, Any]:
        return {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": self._config.provider,
            "gen_ai.conversation.id": self._run_id,
        }

    def _context_of(self, key: str) -> Context | None:
        span = self._agents.get(key)
        return self._parent if span is None else trace.set_span_in_context(span)

    def agent(self, key: str, name: str, task_text: str | None = None) -> Any:
        """`invoke_agent {name}` around one agent instance: the run (key ROOT) or a task."""
        if self._tracer is None:
            return _OFF_CM
        return self._agent(key, name, task_text)

    @contextmanager
    def _agent(self, key: str, name: str, task_text: str | None) -> Iterator[SpanRecorder]:
        assert self._tracer is not None
        attrs = self._base("invoke_agent")
        attrs |= {
            "gen_ai.agent.name": name,
            "gen_ai.agent.id": f"{self._run_id}/{name}",
            "gen_ai.request.model": self._model,
        }
        if key != ROOT:
            attrs["kimi_swarm.task.id"] = key
        parent = self._parent if key == ROOT else self._context_of(ROOT)
        span = self._tracer.start_span(
            f"invoke_agent {name}", parent, SpanKind.INTERNAL, attrs, record_exception=False
        )
        if self._config.capture_content and task_text is not None:
            span.set_attribute("gen_ai.input.messages", _messages([_user(task_text)]))
        self._agents[key] = span
        try:
            yield SpanRecorder(span, self._config.capture_content)
        except BaseException as exc:
            _fail(span, type(exc).__name__, str(exc) or type(exc).__name__)
            raise
        finally:
            self._agents.pop(key, None)
            span.end()

    def chat(self, key: str, request: ChatRequest) -> Any:
        """`chat {model}` around one model call of agent instance `key`."""
        if self._tracer is None:
            return _OFF_CM
        attrs = self._base("chat") | {"gen_ai.request.model": self._model}
        sampling = request.sampling
        for attr, value in (
            ("gen_ai.request.max_tokens", sampling.max_tokens),
            ("gen_ai.request.temperature", sampling.temperature),
            ("gen_ai.request.top_p", sampling.top_p),
            ("gen_ai.request.seed", sampling.seed),
        ):
            if value is not None:
                attrs[attr] = value
        if self._config.capture_content:
            attrs["gen_ai.input.messages"] = _messages(request.messages)
        return self._child(key, f"chat {self._model}", SpanKind.CLIENT, attrs)

    def tool(self, key: str, call_id: str, name: str, arguments: str) -> Any:
        """`execute_tool {name}` around one tool call of agent instance `key`."""
        if self._tracer is None:
            return _OFF_CM
        attrs = self._base("execute_tool") | {
            "gen_ai.tool.name": name,
            "gen_ai.tool.call.id": call_id,
            "gen_ai.tool.type": "function",
        }
        if self._config.capture_content:
            attrs["gen_ai.tool.call.arguments"] = arguments
        return self._child(key, f"execute_tool {name}", SpanKind.INTERNAL, attrs)

    def create_agent(self, name: str, system_prompt: str, tools: list[str]) -> None:
        """`create_agent {name}`: the orchestrator defined a sub-agent."""
        if self._tracer is None:
            return
        attrs = self._base("create_agent") | {
            "gen_ai.agent.name": name,
            "gen_ai.agent.id": f"{self._run_id}/{name}",
            "gen_ai.request.model": self._model,
            "kimi_swarm.agent.tools": tools,
        }
        if self._config.capture_content:
            attrs["gen_ai.system_instructions"] = json.dumps(
                [{"type": "text", "content": system_prompt}]
            )
        self._tracer.start_span(
            f"create_agent {name}", self._context_of(ROOT), SpanKind.INTERNAL, attrs
        ).end()

    @contextmanager
    def _child(
        self, key: str, name: str, kind: SpanKind, attrs: dict[str, Any]
    ) -> Iterator[SpanRecorder]:
        assert self._tracer is not None
        span = self._tracer.start_span(
            name, self._context_of(key), kind, attrs, record_exception=False
        )
        try:
            yield SpanRecorder(span, self._config.capture_content)
        except BaseException as exc:
            _fail(span, type(exc).__name__, str(exc) or type(exc).__name__)
            raise
        finally:
            span.end()


NO_TRACE = RunTrace(TraceConfig(), "", "")


def _fail(span: Span, error_type: str, description: str) -> None:
    span.set_attribute("error.type", error_type)
    span.set_status(Status(StatusCode.ERROR, description))


def _user(text: str) -> Json:
    return {"role": "user", "content": text}


def _messages(messages: list[Json], finish_reason: str | None = None) -> str:
    """OpenAI-shaped messages as the GenAI conventions' JSON (role + typed parts)."""
    out = []
    for msg in messages:
        parts: list[Json] = []
        content = msg.get("content")
        if msg.get("role") == "tool":
            parts.append(
                {"type": "tool_call_response", "id": msg.get("tool_call_id"), "response": content}
            )
        elif isinstance(content, str) and content:
            parts.append({"type": "text", "content": content})
        elif isinstance(content, list):
            parts += [
                {"type": "text", "content": p.get("text", "")}
                if p.get("type") == "text"
                else {"type": str(p.get("type"))}
                for p in content
                if isinstance(p, dict)
            ]
        for call in msg.get("tool_calls") or []:
            fn = call.get("function", {})
            parts.append(
                {
                    "type": "tool_call",
                    "id": call.get("id"),
                    "name": fn.get("name"),
                    "arguments": fn.get("arguments"),
                }
            )
        entry: Json = {"role": msg.get("role"), "parts": parts}
        if finish_reason is not None:
            entry["finish_reason"] = finish_reason
        out.append(entry)
    return json.dumps(out)
