"""Engine/swarm outputs (`Delta | Usage | SwarmEvent | RunSummary`) → Responses stream events.

The answer streams as the standard events (`response.output_text.delta`, reasoning and
function-call items); each swarm trace event becomes `response.swarm.<event type>` (for
example `response.swarm.task.started`) carrying the event under `event`; the run summary
lands in the final response's `swarm` field. The non-streaming response is the response
the `response.completed` event carries.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from swarm.engine import Delta, Json, ToolCallDelta, Usage
from swarm.events import SwarmEvent
from swarm.ledger import RunSummary

SWARM_PREFIX = "response.swarm."


@dataclass(slots=True)
class _Item:
    """One output item being streamed: a message, a reasoning item or a function call."""

    index: int
    body: Json
    parts: list[str] = field(default_factory=list)


class ResponsesEncoder:
    """Builds the event sequence of one response from outputs, numbering events as it goes.

    An `OutputHandler`: each output gives the (possibly empty) list of events it adds.
    """

    def __init__(self, response: Json) -> None:
        self.response = response
        self._seq = 0
        self._items: list[_Item] = []
        self._open: _Item | None = None
        self._calls: dict[int, _Item] = {}
        self._finish: str | None = None
        self._usage = Usage()

    def _event(self, type: str, **fields: Any) -> Json:
        event = {"type": type, "sequence_number": self._seq, **fields}
        self._seq += 1
        return event

    def start(self) -> list[Json]:
        snapshot = {**self.response, "status": "in_progress"}
        return [
            self._event("response.created", response=snapshot),
            self._event("response.in_progress", response=snapshot),
        ]

    def delta(self, item: Delta) -> list[Json]:
        d = item
        events: list[Json] = []
        if d.reasoning:
            events += self._text("reasoning", d.reasoning)
        if d.content:
            events += self._text("message", d.content)
        for tc in d.tool_calls:
            events += self._call(tc)
        self._finish = d.finish_reason or self._finish
        return events

    def usage(self, item: Usage) -> list[Json]:
        self._usage += item
        u = self._usage
        self.response["usage"] = {
            "input_tokens": u.prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": u.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
            "total_tokens": u.total_tokens,
        }
        return []

    def event(self, item: SwarmEvent) -> list[Json]:
        return [self._event(SWARM_PREFIX + str(item.type), event=item.to_dict())]

    def summary(self, item: RunSummary) -> list[Json]:
        self.response["swarm"] = item.to_dict()
        return []

    def finish(self) -> list[Json]:
        events = self._close_text()
        for index in sorted(self._calls):
            events += self._close_call(self._calls[index])
        self._calls.clear()
        incomplete = self._finish == "length"
        self.response["status"] = "incomplete" if incomplete else "completed"
        if incomplete:
            self.response["incomplete_details"] = {"reason": "max_output_tokens"}
        self.response["output"] = [item.body for item in sorted(self._items, key=_index)]
        kind = "response.incomplete" if incomplete else "response.completed"
        return [*events, self._event(kind, response=self.response)]

    # --- text items (message, reasoning) -------------------------------------------------

    def _text(self, kind: str, text: str) -> list[Json]:
        events: list[Json] = []
        item = self._open
        if item is None or item.body["type"] != kind:
            events += self._close_text()
            item = self._open = self._add(_new_text_item(kind))
            events.append(self._item_event("response.output_item.added", item))
            if kind == "message":
                part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
                events.append(self._part_event("response.content_part.added", item, part))
        item.parts.append(text)
        if kind == "message":
            events.append(self._part_delta("response.output_text.delta", item, text))
        else:
            events.append(self._part_delta("response.reasoning_text.delta", item, text))
        return events

    def _close_text(self) -> list[Json]:
        item, self._open = self._open, None
        if item is None:
            return []
        text = "".join(item.parts)
        if item.body["type"] == "message":
            part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
            item.body["content"] = [part]
            done = [
                self._part_done("response.output_text.done", item, text),
                self._part_event("response.content_part.done", item, part),
            ]
        else:
            item.body["content"] = [{"type": "reasoning_text", "text": text}]
            done = [self._part_done("response.reasoning_text.done", item, text)]
        item.body["status"] = "completed"
        return [*done, self._item_event("response.output_item.done", item)]

    # --- function calls (client tools) ---------------------------------------------------

    def _call(self, tc: ToolCallDelta) -> list[Json]:
        events: list[Json] = []
        item = self._calls.get(tc.index)
        if item is None:
            events += self._close_text()
            call_id = tc.id or f"call_{uuid.uuid4().hex[:24]}"
            body = {
                "type": "function_call",
                "id": f"fc_{uuid.uuid4().hex[:24]}",
                "call_id": call_id,
                "name": tc.name or "",
                "arguments": "",
                "status": "in_progress",
            }
            item = self._calls[tc.index] = self._add(body)
            events.append(self._item_event("response.output_item.added", item))
        if tc.arguments:
            item.parts.append(tc.arguments)
            events.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=item.body["id"],
                    output_index=item.index,
                    delta=tc.arguments,
                )
            )
        return events

    def _close_call(self, item: _Item) -> list[Json]:
        item.body["arguments"] = "".join(item.parts)
        item.body["status"] = "completed"
        done = self._event(
            "response.function_call_arguments.done",
            item_id=item.body["id"],
            output_index=item.index,
            name=item.body["name"],
            arguments=item.body["arguments"],
        )
        return [done, self._item_event("response.output_item.done", item)]

    # --- helpers ---------------------------------------------------------------------------

    def _add(self, body: Json) -> _Item:
        item = _Item(len(self._items), body)
        self._items.append(item)
        return item

    def _item_event(self, type: str, item: _Item) -> Json:
        return self._event(type, output_index=item.index, item=dict(item.body))

    def _part_event(self, type: str, item: _Item, part: Json) -> Json:
        return self._event(
            type, item_id=item.body["id"], output_index=item.index, content_index=0, part=part
        )

    def _part_delta(self, type: str, item: _Item, text: str) -> Json:
        extra: Json = {"logprobs": []} if type == "response.output_text.delta" else {}
        return self._event(
            type,
            item_id=item.body["id"],
            output_index=item.index,
            content_index=0,
            delta=text,
            **extra,
        )

    def _part_done(self, type: str, item: _Item, text: str) -> Json:
        extra: Json = {"logprobs": []} if type == "response.output_text.done" else {}
        return self._event(
            type,
            item_id=item.body["id"],
            output_index=item.index,
            content_index=0,
            text=text,
            **extra,
        )


def _index(item: _Item) -> int:
    return item.index


def _new_text_item(kind: str) -> Json:
    if kind == "message":
        return {
            "type": "message",
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
    return {"type": "reasoning", "id": f"rs_{uuid.uuid4().hex[:24]}", "summary": [], "content": []}


def new_response(response_id: str, model: str, request: Json) -> Json:
    """The response object's fields, echoed from the request as OpenAI does."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "model": model,
        "status": "in_progress",
        "output": [],
        "instructions": request.get("instructions"),
        "tools": request.get("tools") or [],
        "tool_choice": request.get("tool_choice") or "auto",
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "temperature": request.get("temperature"),
        "top_p": request.get("top_p"),
        "max_output_tokens": request.get("max_output_tokens"),
        "text": request.get("text") or {"format": {"type": "text"}},
        "metadata": request.get("metadata") or {},
        "error": None,
        "incomplete_details": None,
        "usage": None,
        "truncation": "disabled",
        "reasoning": request.get("reasoning"),
        "user": request.get("user"),
    }
