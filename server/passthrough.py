"""Serve a raw engine result (one JSON body, or a stream of JSON events) over HTTP.

Used by the endpoints vLLM serves as-is (completions, responses, tokenize). Errors
before the first event become an ordinary HTTP error; later ones one error event, then
the stream closes. A client that goes away cancels the source, which aborts the engine.
Heartbeats count from the last frame sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TypeVar

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from server.errors import ApiError, to_api_error
from server.sse import HEARTBEAT, SSE_HEADERS
from swarm.engine import Json
from swarm.outputs import OutputStream

T = TypeVar("T")
# How one event is framed on the wire, and what ends the stream (b"" for nothing).
Framer = Callable[[Json], bytes]
ErrorFramer = Callable[[ApiError], bytes]


async def stream_response(
    events: AsyncIterator[Json],
    *,
    frame: Framer,
    frame_error: ErrorFramer,
    end: bytes,
    heartbeat_s: float,
    headers: dict[str, str] | None = None,
) -> Response:
    """A `text/event-stream` response over `events`; 4xx errors surface before the status line."""
    outputs: OutputStream[Json] = OutputStream.relay(events, name="passthrough")
    try:
        first: Json | None = await outputs.get()
    except StopAsyncIteration:
        first = None
    except BaseException:
        await outputs.aclose()
        raise
    frames = _frames(outputs, first, frame, frame_error, end, heartbeat_s)
    return StreamingResponse(
        frames, media_type="text/event-stream", headers={**SSE_HEADERS, **(headers or {})}
    )


async def _frames(
    outputs: OutputStream[Json],
    first: Json | None,
    frame: Framer,
    frame_error: ErrorFramer,
    end: bytes,
    heartbeat_s: float,
) -> AsyncGenerator[bytes, None]:
    try:
        if first is not None:
            yield frame(first)
            while True:
                try:
                    item = await outputs.get(heartbeat_s)
                except TimeoutError:
                    yield HEARTBEAT
                    continue
                except StopAsyncIteration:
                    break
                yield frame(item)
        if end:
            yield end
    except Exception as exc:  # mid-stream failure: one error event, then close
        yield frame_error(to_api_error(exc))
    finally:
        await outputs.aclose()


async def until_disconnect(request: Request, work: Awaitable[T]) -> T:
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
    if work_task.cancelled():
        raise ApiError(499, "client closed the request", code="client_closed")
    return work_task.result()
