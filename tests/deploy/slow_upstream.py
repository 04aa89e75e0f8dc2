"""A tiny OpenAI-compatible upstream that streams slowly: `python slow_upstream.py --port P`.

Each chat completion streams `--chunks` content pieces ("w0 ", "w1 ", ...), `--delay` seconds
apart, so a test can send SIGTERM to kimi-swarm while a stream is in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

MODEL = "slow-upstream"


def chunk(delta: dict[str, object], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-slow",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def make_app(chunks: int, delay_s: float) -> Starlette:
    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def models(_: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    async def frames() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "content": ""})
        for i in range(chunks):
            await asyncio.sleep(delay_s)
            yield chunk({"content": f"w{i} "})
        yield chunk({}, finish="stop")
        yield b"data: [DONE]\n\n"

    async def chat(_: Request) -> Response:
        return StreamingResponse(frames(), media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/v1/models", models),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=10)
    parser.add_argument("--delay", type=float, default=0.3)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = make_app(args.chunks, args.delay)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
