"""`POST /v1/chat/completions`: plain chat on the engine, or a swarm run for `<name>-swarm`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from server import metrics, tracing
from server.chat_encoder import ChunkEncoder, Collector, CompletionMeta, encode
from server.context import AppContext
from server.convert import parse_body, to_chat_request
from server.errors import ApiError, to_api_error
from server.passthrough import until_disconnect
from server.sse import DONE, HEARTBEAT, SSE_HEADERS
from swarm.engine import Usage
from swarm.events import SwarmEvent
from swarm.outputs import OutputStream, SwarmOutput, dispatch

router = APIRouter()


@router.post("/v1/chat/completions")
async def chat_completions(request: Request) -> Response:
    ctx: AppContext = request.app.state.ctx
    wire = parse_body(await request.body())
    is_swarm = ctx.resolve_model(wire.model) or bool((wire.swarm or {}).get("enabled"))
    # Ours: a client's X-Request-Id is echoed in the response, never reused as an engine id
    # (two clients sending the same one would abort each other's requests).
    request_id = uuid.uuid4().hex
    chat = to_chat_request(wire, request_id, stream=wire.stream)
    if ctx.media is not None:
        chat.messages = await ctx.media.prepare(chat.messages)
    opts = wire.stream_options
    outputs: OutputStream[SwarmOutput]
    if is_swarm:
        if ctx.swarm is None:
            raise ApiError(400, "swarm mode is not enabled on this server", param="model")
        options = ctx.swarm.options(wire.swarm)
        owner = request.scope["state"].get("owner")  # set when API keys are on
        outputs = ctx.swarm.run(chat, options, parent=tracing.current_context(), owner=owner)
    else:
        outputs = OutputStream.relay(ctx.require_engine().stream(chat), name="chat")

    meta = CompletionMeta(id=f"chatcmpl-{request_id}", model=wire.model)
    try:
        first = await outputs.get()  # surfaces 4xx errors before a status line is sent
    except StopAsyncIteration:
        first = None
    except BaseException:
        await outputs.aclose()
        raise
    headers = {"X-Swarm-Run-Id": first.run_id} if isinstance(first, SwarmEvent) else {}
    if not wire.stream:
        return await _respond_whole(request, outputs, first, meta, headers)
    enc = ChunkEncoder(
        meta,
        include_usage=bool(opts and opts.include_usage),
        include_events=bool(opts and opts.include_swarm_events),
    )
    frames = _stream_frames(outputs, first, enc, ctx.settings.heartbeat_s)
    return StreamingResponse(
        frames, media_type="text/event-stream", headers={**SSE_HEADERS, **headers}
    )


async def _stream_frames(
    outputs: OutputStream[SwarmOutput],
    first: SwarmOutput | None,
    enc: ChunkEncoder,
    heartbeat_s: float,
) -> AsyncGenerator[bytes, None]:
    loop = asyncio.get_running_loop()
    sent_at = loop.time()  # the heartbeat counts from the last byte sent, not the last output
    try:
        if first is not None:
            if (chunk := dispatch(first, enc)) is not None:
                yield encode(chunk)
                sent_at = loop.time()
            while True:
                try:
                    item = await outputs.get(max(0.0, sent_at + heartbeat_s - loop.time()))
                except TimeoutError:
                    yield HEARTBEAT
                    sent_at = loop.time()
                    continue
                except StopAsyncIteration:
                    break
                if (chunk := dispatch(item, enc)) is not None:
                    yield encode(chunk)
                    sent_at = loop.time()
        yield DONE
    except Exception as exc:  # mid-stream failure: one error event, then close (no [DONE])
        yield b"data: " + to_api_error(exc).json_bytes() + b"\n\n"
    finally:
        _count_tokens(enc.usage_seen)
        await outputs.aclose()


async def _respond_whole(
    request: Request,
    outputs: OutputStream[SwarmOutput],
    first: SwarmOutput | None,
    meta: CompletionMeta,
    headers: dict[str, str],
) -> Response:
    collector = Collector(meta)
    try:
        await until_disconnect(request, _collect(outputs, first, collector))
    finally:
        await outputs.aclose()
    _count_tokens(collector.usage_total)
    return JSONResponse(collector.response(), headers=headers)


async def _collect(
    outputs: OutputStream[SwarmOutput], first: SwarmOutput | None, collector: Collector
) -> None:
    if first is None:
        return
    dispatch(first, collector)
    async for item in outputs:
        dispatch(item, collector)


def _count_tokens(usage: Usage) -> None:
    metrics.TOKENS.labels("prompt").inc(usage.prompt_tokens)
    metrics.TOKENS.labels("completion").inc(usage.completion_tokens)
