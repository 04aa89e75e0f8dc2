"""A Responses request run as a swarm: items → chat messages, outputs → Responses events.

The conversion of input items to chat messages is vLLM's (`construct_input_messages`);
the request then takes the chat path's validation and the same `SwarmService.run`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from fastapi import Request

from server import tracing
from server.context import AppContext
from server.convert import parse_chat, to_chat_request
from server.engines.vllm_raw import rejections
from server.errors import ApiError
from server.responses_encoder import ResponsesEncoder, new_response
from swarm.engine import Json
from swarm.outputs import OutputStream, SwarmOutput, dispatch

# Responses content part types → chat content part types.
_PARTS = {"input_text": "text", "output_text": "text", "input_image": "image_url"}


async def swarm_events(
    ctx: AppContext, request: Request, body: Json, items: list[Json]
) -> AsyncIterator[Json]:
    """The Responses events of one swarm run (nothing is sent before the run has started)."""
    if ctx.swarm is None:
        raise ApiError(400, "swarm mode is not enabled on this server", param="model")
    wire = parse_chat(chat_body(body, items))
    chat = to_chat_request(wire, uuid.uuid4().hex, stream=True)
    if ctx.media is not None:
        chat.messages = await ctx.media.prepare(chat.messages)
    options = ctx.swarm.options(wire.swarm)
    owner = request.scope["state"].get("owner")  # set when API keys are on
    outputs = ctx.swarm.run(chat, options, parent=tracing.current_context(), owner=owner)
    response = new_response(f"resp_{uuid.uuid4().hex}", str(body.get("model")), body)
    return _events(outputs, ResponsesEncoder(response))


async def _events(
    outputs: OutputStream[SwarmOutput], enc: ResponsesEncoder
) -> AsyncGenerator[Json, None]:
    try:
        # After the first output: a request the swarm rejects fails as plain HTTP.
        first = await outputs.get()
        for event in [*enc.start(), *dispatch(first, enc)]:
            yield event
        async for out in outputs:
            for event in dispatch(out, enc):
                yield event
        for event in enc.finish():
            yield event
    except StopAsyncIteration:
        return
    finally:
        await outputs.aclose()


def chat_body(body: Json, items: list[Json]) -> Json:
    """A Responses body (input already expanded to `items`) → a chat-completions body."""
    from vllm.entrypoints.openai.responses.protocol import ResponsesRequest
    from vllm.entrypoints.openai.responses.utils import construct_input_messages

    with rejections():
        req = ResponsesRequest.model_validate(
            {"input": items, "instructions": body.get("instructions")}
        )
        messages = construct_input_messages(
            request_instructions=req.instructions, request_input=req.input
        )
    chat: Json = {
        "model": body.get("model"),
        "messages": [_chat_message(dict(m)) for m in messages],
        "stream": True,
        "swarm": body.get("swarm"),
        "max_tokens": body.get("max_output_tokens"),
        "temperature": body.get("temperature"),
        "top_p": body.get("top_p"),
        "parallel_tool_calls": body.get("parallel_tool_calls"),
        "tools": [_chat_tool(t) for t in body.get("tools") or []] or None,
        "tool_choice": _chat_tool_choice(body.get("tool_choice")),
        "response_format": _response_format(body.get("text")),
    }
    return {k: v for k, v in chat.items() if v is not None}


def _chat_message(message: Json) -> Json:
    content = message.get("content")
    if isinstance(content, list):
        message["content"] = [_chat_part(p) for p in content]
    return {k: v for k, v in message.items() if v is not None and k != "type"}


def _chat_part(part: Any) -> Any:
    if not isinstance(part, dict) or part.get("type") not in _PARTS:
        return part
    kind = _PARTS[part["type"]]
    if kind == "text":
        return {"type": "text", "text": part.get("text", "")}
    return {"type": "image_url", "image_url": {"url": part.get("image_url") or ""}}


def _chat_tool(tool: Any) -> Json:
    if not isinstance(tool, dict) or tool.get("type") != "function":
        kind = tool.get("type") if isinstance(tool, dict) else type(tool).__name__
        raise ApiError(400, f"The swarm accepts function tools only, not '{kind}'.", param="tools")
    fn = {k: v for k, v in tool.items() if k in ("name", "description", "parameters", "strict")}
    return {"type": "function", "function": fn}


def _chat_tool_choice(choice: Any) -> Any:
    if isinstance(choice, dict) and choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    return choice


def _response_format(text: Any) -> Json | None:
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") in (None, "text"):
        return None
    if fmt.get("type") == "json_schema":
        schema = {k: v for k, v in fmt.items() if k in ("name", "schema", "strict", "description")}
        return {"type": "json_schema", "json_schema": schema}
    return {"type": str(fmt["type"])}
