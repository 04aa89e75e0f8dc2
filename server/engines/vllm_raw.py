"""vLLM's own completions, responses and tokenizer serving classes, called in-process.

`init_app_state` builds them next to the chat serving class; here each raw endpoint is
validated with vLLM's request model, served by vLLM's handler, and its result turned
into plain JSON (one body, or a stream of events).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from server.engines.openai_api import Endpoint, RawResult
from server.engines.vllm_convert import error_from, json_from_sse_line
from swarm.engine import Json
from swarm.errors import EngineRejected

Abort = Callable[[list[str]], Awaitable[None]]


@dataclass(slots=True, frozen=True)
class _Route:
    module: str
    model: str  # the request model (or type alias) in `module`
    handler: str  # the serving object's attribute on vLLM's app state
    method: str


_ROUTES: dict[str, _Route] = {
    "completions": _Route(
        "vllm.entrypoints.openai.completion.protocol",
        "CompletionRequest",
        "openai_serving_completion",
        "create_completion",
    ),
    "responses": _Route(
        "vllm.entrypoints.openai.responses.protocol",
        "ResponsesRequest",
        "openai_serving_responses",
        "create_responses",
    ),
    "tokenize": _Route(
        "vllm.entrypoints.serve.tokenize.protocol",
        "TokenizeRequest",
        "serving_tokenization",
        "create_tokenize",
    ),
    "detokenize": _Route(
        "vllm.entrypoints.serve.tokenize.protocol",
        "DetokenizeRequest",
        "serving_tokenization",
        "create_detokenize",
    ),
}


class VLLMRawEndpoints:
    """The raw endpoints over vLLM's app state (`state.openai_serving_*`)."""

    def __init__(self, state: Any, abort: Abort) -> None:
        self._state = state
        self._abort = abort

    async def call_openai(self, endpoint: Endpoint, body: Json) -> RawResult:
        import importlib

        from pydantic import TypeAdapter
        from vllm.entrypoints.serve.engine.protocol import ErrorResponse

        route = _ROUTES[endpoint]
        handler = getattr(self._state, route.handler, None)
        if handler is None:
            raise EngineRejected(f"this model does not serve /{endpoint}", status=404)
        model = getattr(importlib.import_module(route.module), route.model)
        with rejections():
            request = TypeAdapter(model).validate_python(body)
            result = await getattr(handler, route.method)(request, None)
        if isinstance(result, ErrorResponse):
            raise error_from(result.error.model_dump())
        if hasattr(result, "model_dump"):
            return dict(result.model_dump(mode="json", by_alias=True))
        return self._events(endpoint, request, result)

    async def _events(
        self, endpoint: Endpoint, request: Any, frames: AsyncGenerator[Any, None]
    ) -> AsyncGenerator[Json, None]:
        finished = False
        try:
            async for frame in frames:
                for event in _as_events(frame):
                    yield event
            finished = True
        finally:
            await frames.aclose()
            if not finished:  # the consumer went away: free the sequences now
                await self._abort(_engine_ids(endpoint, request))


def _as_events(frame: Any) -> list[Json]:
    """One item of a vLLM stream (an SSE text frame or an event model) → JSON events."""
    if not isinstance(frame, str):
        return [frame.model_dump(mode="json", by_alias=True)]
    events = map(json_from_sse_line, frame.splitlines())
    return [e for e in events if e is not None]


def _engine_ids(endpoint: Endpoint, request: Any) -> list[str]:
    """The engine's request ids for one raw request (as vLLM's handlers name them)."""
    if endpoint == "responses":
        return [f"{request.request_id}_0"]
    prompt = request.prompt
    count = (
        len(prompt) if isinstance(prompt, list) and prompt and not isinstance(prompt[0], int) else 1
    )
    return [f"cmpl-{request.request_id}-{i}" for i in range(count)]


@contextmanager
def rejections() -> Iterator[None]:
    """Turn vLLM's ways of reporting bad input into `EngineRejected`."""
    try:
        yield
    except Exception as exc:
        if (rejected := rejected_from(exc)) is None:
            raise
        raise rejected from exc


def rejected_from(exc: BaseException) -> EngineRejected | None:
    """The `EngineRejected` a vLLM validation/client error means, or None for other errors."""
    from pydantic import ValidationError
    from vllm.exceptions import VLLMClientError

    if isinstance(exc, ValidationError):
        err = exc.errors(include_url=False)[0]
        param = ".".join(str(p) for p in err["loc"]) or None
        return EngineRejected(str(err["msg"]).removeprefix("Value error, "), param=param)
    if isinstance(exc, VLLMClientError):
        param = getattr(exc, "parameter", None)
        return EngineRejected(str(exc).split(" (parameter=")[0], param=param)
    if isinstance(exc, (ValueError, TypeError)):  # vLLM's renderer reports bad input this way
        return EngineRejected(str(exc))
    return None
