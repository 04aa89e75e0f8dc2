"""OpenAI-shaped chunk/response dicts (as vLLM or an upstream server emits them) → engine events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from swarm.engine import ChatRequest, Delta, EngineEvent, Json, ToolCallDelta, Usage
from swarm.errors import EngineRejected, EngineUnavailable


def usage_from(usage: Json) -> Usage:
    details = usage.get("completion_tokens_details") or {}
    return Usage(
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        reasoning_tokens=int(details.get("reasoning_tokens") or 0),
    )


def _tool_call(tc: Json, fallback_index: int) -> ToolCallDelta:
    fn = tc.get("function") or {}
    return ToolCallDelta(
        index=int(tc.get("index", fallback_index)),
        id=tc.get("id"),
        name=fn.get("name"),
        arguments=fn.get("arguments") or "",
    )


def delta_from_choice(choice: Json) -> Delta | None:
    """A streamed `choices[i]` → Delta, or None when it carries nothing."""
    body = choice.get("delta") or {}
    reasoning = body.get("reasoning_content") or body.get("reasoning")
    calls = [_tool_call(tc, i) for i, tc in enumerate(body.get("tool_calls") or [])]
    d = Delta(
        choice=int(choice.get("index", 0)),
        content=body.get("content") or None,
        reasoning=reasoning or None,
        tool_calls=calls,
        finish_reason=choice.get("finish_reason"),
        logprobs=choice.get("logprobs"),
    )
    empty = d.content is None and d.reasoning is None and not calls
    if empty and d.finish_reason is None and d.logprobs is None:
        return None
    return d


def deltas_from_message(choice: Json) -> Delta:
    """A whole (non-streamed) `choices[i]` → one Delta holding the full message."""
    msg = choice.get("message") or {}
    calls = [_tool_call({**tc, "index": i}, i) for i, tc in enumerate(msg.get("tool_calls") or [])]
    return Delta(
        choice=int(choice.get("index", 0)),
        content=msg.get("content") or None,
        reasoning=msg.get("reasoning_content") or msg.get("reasoning") or None,
        tool_calls=calls,
        finish_reason=choice.get("finish_reason") or "stop",
        logprobs=choice.get("logprobs"),
    )


def deltas_from_response(response: Any) -> Iterator[EngineEvent]:
    data: Json = response if isinstance(response, dict) else response.model_dump()
    for choice in data.get("choices") or []:
        yield deltas_from_message(choice)
    yield usage_from(data.get("usage") or {})


def to_openai_body(request: ChatRequest, model: str) -> dict[str, Any]:
    """Engine request → an OpenAI chat-completions body (vLLM's extras pass through)."""
    s = request.sampling
    body: dict[str, Any] = {
        **request.extra,
        "model": model,
        "messages": request.messages,
        "n": s.n,
        "logprobs": s.logprobs,
        "stream": request.stream,
        "request_id": request.request_id,
    }
    if request.stream:
        body["stream_options"] = {"include_usage": True}
    optional = {
        "tools": request.tools,
        "tool_choice": request.tool_choice,
        "parallel_tool_calls": request.parallel_tool_calls,
        "chat_template_kwargs": request.chat_template_kwargs,
        "max_completion_tokens": s.max_tokens,
        "temperature": s.temperature,
        "top_p": s.top_p,
        "stop": s.stop,
        "seed": s.seed,
        "top_logprobs": s.top_logprobs,
        "presence_penalty": s.presence_penalty,
        "frequency_penalty": s.frequency_penalty,
        "response_format": s.response_format,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


def error_from(err: Json) -> Exception:
    """An OpenAI-shaped `error` object → the engine error it means (5xx: unavailable)."""
    try:
        status = int(err.get("code") or 400)
    except (TypeError, ValueError):  # some servers put a string code there
        status = 400
    message = str(err.get("message") or "request rejected by the engine")
    if status >= 500:
        return EngineUnavailable(message)
    return EngineRejected(message, param=err.get("param"), status=status)


def json_from_sse_line(line: str) -> Json | None:
    """One `data: {...}` SSE line → its JSON (None for other lines and `[DONE]`).

    An `{"error": {...}}` payload raises the engine error it means.
    """
    if not line.startswith("data:"):
        return None
    payload = line[5:].strip()
    if not payload or payload == "[DONE]":
        return None
    try:
        chunk = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise EngineUnavailable(f"the model server sent invalid JSON: {payload[:80]!r}") from exc
    if isinstance(chunk, dict) and "error" in chunk and "type" not in chunk:
        err = chunk["error"]
        raise error_from(err if isinstance(err, dict) else {"message": str(err), "code": 500})
    return chunk if isinstance(chunk, dict) else None


def events_from_sse_line(line: str) -> list[EngineEvent]:
    """One `data: {...}` line of a chat-completions stream → engine events (none for others)."""
    chunk = json_from_sse_line(line)
    if chunk is None:
        return []
    events: list[EngineEvent] = [
        d for d in map(delta_from_choice, chunk.get("choices") or []) if d is not None
    ]
    if chunk.get("usage"):
        events.append(usage_from(chunk["usage"]))
    return events
