"""A scripted OpenAI-compatible upstream that plays a swarm: `python swarm_upstream.py --port P`.

The user message says the fan-out's shape: "tag=T fast=3 slow=2 [tool=get_weather]".
- Orchestrator calls (they offer `create_subagent`) go by the conversation so far: no tool
  results yet → call the client tool when one is named and offered, else `create_subagent`;
  after the sub-agent exists → one `assign_task` per task ("T/fast-0", ..., "T/slow-1");
  after the tasks' results → a final answer that quotes them.
- Sub-agent calls answer their task: a fast task at once, a slow task only after `--hold`
  seconds on its first attempt (at once on later attempts, e.g. after a resume).
`GET /attempts` gives how often each task was asked for, so a test sees which tasks re-ran.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

MODEL = "scripted-upstream"


def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def tool_calls(calls: list[tuple[str, dict[str, Any]]]) -> list[bytes]:
    frags = [
        {"index": i, "id": f"call_{i}", "type": "function",
         "function": {"name": name, "arguments": json.dumps(args)}}
        for i, (name, args) in enumerate(calls)
    ]  # fmt: skip
    return [chunk({"role": "assistant", "tool_calls": frags}), chunk({}, "tool_calls")]


def text(content: str) -> list[bytes]:
    return [chunk({"role": "assistant", "content": content}), chunk({}, "stop")]


def shape(messages: list[dict[str, Any]]) -> dict[str, str]:
    first = next(m for m in messages if m.get("role") == "user")
    content = first["content"] if isinstance(first["content"], str) else ""
    return dict(re.findall(r"(\w+)=(\S+)", content))


def orchestrate(body: dict[str, Any]) -> list[bytes]:
    messages = body["messages"]
    results = [m for m in messages if m.get("role") == "tool"]
    offered = {t["function"]["name"] for t in body.get("tools") or []}
    spec = shape(messages)
    client_tool = spec.get("tool")
    # The swarm names the client's tool calls after the run ("call_run_..."); ours are call_N.
    answered = [m for m in results if str(m.get("tool_call_id", "")).startswith("call_run_")]
    results = [m for m in results if m not in answered]
    if client_tool in offered and not answered:
        return tool_calls([(str(client_tool), {"city": "Paris"})])
    if not results:
        return tool_calls([("create_subagent", {"name": "w", "system_prompt": "Answer."})])
    if len(results) == 1:
        tag = spec.get("tag", "t")
        tasks = [f"{tag}/fast-{i}" for i in range(int(spec.get("fast", 1)))]
        tasks += [f"{tag}/slow-{i}" for i in range(int(spec.get("slow", 0)))]
        return tool_calls([("assign_task", {"agent": "w", "task": t}) for t in tasks])
    return text("final: " + " | ".join(str(m["content"]) for m in results[1:]))


def make_app(hold_s: float) -> Starlette:
    attempts: Counter[str] = Counter()

    async def chat(request: Request) -> Response:
        body = await request.json()
        names = {t["function"]["name"] for t in body.get("tools") or []}
        if "create_subagent" in names:
            frames = orchestrate(body)
            delay = 0.0
        else:
            task = str(body["messages"][-1]["content"])
            attempts[task] += 1
            delay = hold_s if "/slow-" in task and attempts[task] == 1 else 0.0
            frames = text(f"the answer to {task} is ready")

        async def stream() -> AsyncIterator[bytes]:
            await asyncio.sleep(delay)
            for frame in frames:
                yield frame
            yield b"data: [DONE]\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def models(_: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    async def counts(_: Request) -> Response:
        return JSONResponse(dict(attempts))

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/v1/models", models),
            Route("/attempts", counts),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hold", type=float, default=120.0)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(make_app(args.hold), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
