"""`POST /v1/chat/completions`: plain chat on the engine, or a swarm run for `<name>-swarm`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from server import metrics
from server.chat_encoder import ChunkEncoder, Collector, CompletionMeta, encode
from server.context import AppContext
from server.convert import parse_body, to_chat_request
from server.errors import ApiError, to_api_error
from server.pump import Pump
from server.sse import DONE, HEARTBEAT, SSE_HEADERS
from swarm.engine import Delta, Usage

router = APIRouter()


@router.post("/v1/chat/completions")
async def chat_completions(request: Request) -> Response:
    ctx: AppContext = request.app.state.ctx
    wire = parse_body(await request.body())
    is_swarm = ctx.resolve_model(wire.model) or bool((wire.swarm or {}).get("enabled"))
    request_id = request.scope["state"]["request_id"]
    chat = to_chat_request(wire, request_id, stream=wire.stream)
    if ctx.media is not None:
        chat.messages = await ctx.media.prepare(chat.messages)
    opts = wire.stream_options
    include_usage = bool(opts and opts.include_usage)
    include_events = bool(opts and opts.include_swarm_events)
    if is_swarm:
        if ctx.swarm is None:
            raise ApiError(400, "swarm mode is not enabled on this server", param="model")
        source: AsyncIterator[Any] = ctx.swarm.run(chat, ctx.swarm.options(wire.swarm))
    else:
        source = ctx.require_engine().stream(chat)

    meta = CompletionMeta(id=f"chatcmpl-{request_id}", model=wire.model)
    pump: Pump[Any] = Pump(source)
    try:
        first = await pump.get()  # surfaces 4xx errors before a status line is sent
    except StopAsyncIteration:
        first = None
    except BaseException:
        await pump.aclose()
        raise
    headers = _run_headers(first)
    if not wire.stream:
        return await _respond_whole(request, pump, first, meta, headers)
    frames = _stream_frames(
        pump,
        first,
        ChunkEncoder(meta),
        ctx.settings.heartbeat_s,
        include_usage=include_usage,
        include_events=include_events,
    )
    return StreamingResponse(
        frames, media_type="text/event-stream", headers={**SSE_HEADERS, **headers}
    )


def _run_headers(first: Any) -> dict[str, str]:
    run_id = getattr(first, "run_id", None)
    return {"X-Swarm-Run-Id": run_id} if isinstance(run_id, str) else {}


async def _stream_frames(
    pump: Pump[Any],
    first: Any,
    enc: ChunkEncoder,
    heartbeat_s: float,
    *,
    include_usage: bool,
    include_events: bool,
) -> AsyncGenerator[bytes, None]:
    try:
        if first is not None:
            if frame := _frame(enc, first, include_usage, include_events):
                yield frame
            async for item in pump.items(heartbeat_s):
                if item is None:
                    yield HEARTBEAT
                elif frame := _frame(enc, item, include_usage, include_events):
                    yield frame
        yield DONE
    except Exception as exc:  # mid-stream failure: one error event, then close (no [DONE])
        yield b"data: " + to_api_error(exc).json_bytes() + b"\n\n"
    finally:
        await pump.aclose()


def _frame(enc: ChunkEncoder, item: Any, include_usage: bool, include_events: bool) -> bytes:
    """The SSE frame for one output; b"" for outputs this client did not ask for."""
    if isinstance(item, Delta):
        return encode(enc.delta(item))
    if isinstance(item, Usage):
        _count_tokens(item)
        return encode(enc.usage(item)) if include_usage else b""
    if hasattr(item, "sequence_number"):  # a swarm trace event
        return encode(enc.extra(swarm=item.to_dict())) if include_events else b""
    return encode(enc.extra(swarm=item.to_dict()))  # the run summary


async def _respond_whole(
    request: Request, pump: Pump[Any], first: Any, meta: CompletionMeta, headers: dict[str, str]
) -> Response:
    collector = Collector(meta)
    try:
        await _until_disconnect(request, _collect(pump, first, collector))
    finally:
        await pump.aclose()
    _count_tokens(collector.usage)
    return JSONResponse(collector.response(), headers=headers)


async def _collect(pump: Pump[Any], first: Any, collector: Collector) -> None:
    item = first
    while item is not None:
        if isinstance(item, Delta):
            collector.delta(item)
        elif isinstance(item, Usage):
            collector.usage = item
        elif not hasattr(item, "sequence_number"):
            collector.extra["swarm"] = item.to_dict()
        try:
            item = await pump.get()
        except StopAsyncIteration:
            item = None


async def _until_disconnect(request: Request, work: Any) -> None:
    """Await `work`, cancelling it if the client disconnects first (the body is already read)."""

    async def disconnected() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    work_task = asyncio.ensure_future(work)
    watch = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait({work_task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (work_task, watch):
            task.cancel()
        await asyncio.gather(work_task, watch, return_exceptions=True)
    if not work_task.cancelled() and work_task.exception() is None:
        return
    if work_task.cancelled():
        raise ApiError(499, "client closed the request", code="client_closed")
    exc = work_task.exception()
    assert exc is not None
    raise exc


def _count_tokens(usage: Usage) -> None:
    metrics.TOKENS.labels("prompt").inc(usage.prompt_tokens)
    metrics.TOKENS.labels("completion").inc(usage.completion_tokens)
