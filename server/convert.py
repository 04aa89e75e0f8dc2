"""The one converter between the wire (pydantic) and the inside (engine dataclasses)."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from server.errors import ApiError
from server.wire import ChatCompletionIn, NamedToolChoice, ParamError
from swarm.engine import ChatRequest, Sampling

_FIELD = re.compile(r"^[a-z_][a-z0-9_]*$")
# Union-branch labels pydantic puts into error locations; they are not parameters.
_NOT_PARAMS = {"str", "int", "float", "bool", "list", "dict", "none", "literal"}


def json_object(body: bytes) -> dict[str, Any]:
    """Bytes → a JSON object, or an `ApiError` saying what is wrong with the body."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"We could not parse the JSON body of your request ({exc}).") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return data


def parse_body(body: bytes) -> ChatCompletionIn:
    """Bytes → validated request, or an `ApiError` that names the offending parameter."""
    return parse_chat(json_object(body))


def parse_chat(data: dict[str, Any]) -> ChatCompletionIn:
    """A chat-completions body → validated request (`ApiError` naming the parameter)."""
    try:
        return ChatCompletionIn.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc) from exc


def _validation_error(exc: ValidationError) -> ApiError:
    err = exc.errors(include_url=False)[0]
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ParamError):
        return ApiError(400, cause.message, param=cause.param)
    param = loc_to_param(err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "missing":
        return ApiError(400, f"Missing required parameter: '{param}'.", param=param)
    return ApiError(400, f"Invalid value for '{param}': {msg}.", param=param)


def loc_to_param(loc: tuple[int | str, ...]) -> str:
    """('messages', 0, 'content') → 'messages[0].content'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _FIELD.match(part) and part not in _NOT_PARAMS:
            out += f".{part}" if out else part
    return out or "body"


def to_chat_request(req: ChatCompletionIn, request_id: str, *, stream: bool) -> ChatRequest:
    """Wire request → engine request (messages and tools stay OpenAI-shaped dicts)."""
    dumped = req.model_dump(exclude_none=True, by_alias=True)
    extra = {k: v for k, v in dumped.items() if k not in ChatCompletionIn.model_fields}
    choice: Any = req.tool_choice
    if isinstance(choice, NamedToolChoice):
        choice = choice.model_dump()
    stop = [req.stop] if isinstance(req.stop, str) else req.stop
    sampling = Sampling(
        max_tokens=req.max_completion_tokens or req.max_tokens,
        temperature=req.temperature,
        top_p=req.top_p,
        stop=stop,
        seed=req.seed,
        n=req.n,
        logprobs=req.logprobs,
        top_logprobs=req.top_logprobs,
        presence_penalty=req.presence_penalty,
        frequency_penalty=req.frequency_penalty,
        response_format=dumped.get("response_format"),
    )
    return ChatRequest(
        messages=dumped["messages"],
        tools=dumped.get("tools"),
        tool_choice=choice,
        parallel_tool_calls=req.parallel_tool_calls,
        sampling=sampling,
        chat_template_kwargs=req.chat_template_kwargs,
        extra=extra,
        request_id=request_id,
        stream=stream,
    )
