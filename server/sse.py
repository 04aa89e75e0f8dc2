"""Server-sent events: framing, headers and an idle heartbeat."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

from swarm.outputs import OutputStream

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}
HEARTBEAT = b": ping\n\n"
DONE = b"data: [DONE]\n\n"


def sse_event(data: str, *, id: int | None = None, event: str | None = None) -> bytes:
    """One SSE frame; `data` must be a single line (JSON is)."""
    head = ""
    if id is not None:
        head += f"id: {id}\n"
    if event is not None:
        head += f"event: {event}\n"
    return f"{head}data: {data}\n\n".encode()


async def with_heartbeat(
    frames: AsyncGenerator[bytes, None], interval_s: float
) -> AsyncIterator[bytes]:
    """Pass frames through, sending a comment line whenever the source is idle for `interval_s`."""
    stream = OutputStream.relay(frames, name="sse")
    try:
        while True:
            try:
                yield await stream.get(interval_s)
            except TimeoutError:
                yield HEARTBEAT
            except StopAsyncIteration:
                return
    finally:
        await stream.aclose()
