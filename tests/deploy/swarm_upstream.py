"""A scripted OpenAI-compatible model that plays a swarm: `python swarm_upstream.py --port P`.

It reads the swarm's request id from `X-Request-Id` (`<run>/<agent>/<task>/<step>`, which the
upstream engine forwards) and answers by script, never by reading the conversation:
the orchestrator creates one sub-agent and assigns `--fanout` tasks per stage for `--stages`
stages, then answers; every sub-agent answers in one step. Each call waits `--latency` s.

It also keeps a *simulated* prefix cache, in the manner of vLLM's automatic prefix caching: the
prompt (messages + tools as canonical JSON) is cut into `BLOCK`-character blocks whose chained
hashes are remembered; a call's hit is its run of leading blocks already seen on this server.
`GET /stats` reports calls per run id and the cache's queried/hit blocks.

With `--prefill-url URL` (a real vLLM server of its own), every call's conversation and tools
are also sent there for prefill only (`max_tokens` 1) before the scripted answer, so the real
engine's prefix cache sees exactly the prompts this replica received.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
from collections import Counter
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MODEL = "scripted-kimi"
BLOCK = 64  # characters per simulated cache block (vLLM's default block is 16 tokens)


class PrefixCache:
    def __init__(self) -> None:
        self.blocks: set[str] = set()
        self.queried = 0
        self.hits = 0

    def lookup(self, prompt: str) -> None:
        """Count the leading blocks already cached, then cache every block of `prompt`."""
        chain = hashlib.sha256()
        leading = True
        for start in range(0, len(prompt) - BLOCK + 1, BLOCK):
            chain.update(prompt[start : start + BLOCK].encode())
            digest = chain.hexdigest()
            self.queried += 1
            if leading and digest in self.blocks:
                self.hits += 1
            else:
                leading = False
                self.blocks.add(digest)


def script(agent: str, step: int, fanout: int, stages: int) -> dict[str, Any]:
    """The assistant message for one call."""
    if agent != "orchestrator":
        return {"role": "assistant", "content": f"finding of {agent} number {step}"}
    if step >= stages:
        return {"role": "assistant", "content": "final answer from the swarm"}
    calls: list[tuple[str, dict[str, Any]]] = []
    if step == 0:
        calls.append(("create_subagent", {"name": "w", "system_prompt": "Research one item."}))
    calls += [("assign_task", {"agent": "w", "task": f"item {step}.{i}"}) for i in range(fanout)]
    tool_calls = [
        {
            "id": f"c{step}_{i}",
            "type": "function",
            "function": {"name": n, "arguments": json.dumps(a)},
        }
        for i, (n, a) in enumerate(calls)
    ]
    return {"role": "assistant", "content": None, "tool_calls": tool_calls}


def sse(message: dict[str, Any]) -> str:
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    delta: dict[str, Any] = {"role": "assistant", "content": message.get("content") or ""}
    if message.get("tool_calls"):
        delta["tool_calls"] = [{"index": i, **c} for i, c in enumerate(message["tool_calls"])]
    chunks = [
        {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]},
        {"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 5}},
    ]
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


def prefill_body(body: dict[str, Any]) -> dict[str, Any]:
    """The same prompt for a real engine: tools rendered, nothing generated worth waiting for."""
    out: dict[str, Any] = {"model": "", "messages": body["messages"], "max_tokens": 1}
    if body.get("tools"):
        out |= {"tools": body["tools"], "tool_choice": "none"}
    return out


def make_app(fanout: int, stages: int, latency_s: float, prefill_url: str = "") -> Starlette:
    cache = PrefixCache()
    calls: Counter[str] = Counter()
    engine = httpx.AsyncClient(base_url=prefill_url, timeout=600) if prefill_url else None

    async def chat(request: Request) -> Response:
        body = await request.json()
        rid = request.headers.get("x-request-id", "")
        parts = rid.split("/")
        agent, step = (parts[1], int(parts[3])) if len(parts) == 4 else ("plain", 0)
        calls[parts[0] if len(parts) == 4 else ""] += 1
        cache.lookup(json.dumps([body.get("tools"), body["messages"]], sort_keys=True))
        if engine is not None:
            prefill = prefill_body(body)
            prefill["model"] = (await engine.get("models")).json()["data"][0]["id"]
            (await engine.post("chat/completions", json=prefill)).raise_for_status()
        await asyncio.sleep(latency_s)
        message = script(agent, step, fanout, stages)
        if body.get("stream"):
            return Response(sse(message), media_type="text/event-stream")
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        choice = {"index": 0, "message": message, "finish_reason": finish}
        return JSONResponse({"object": "chat.completion", "choices": [choice], "usage": usage})

    async def stats(_: Request) -> Response:
        return JSONResponse(
            {"calls": dict(calls), "cache": {"queried": cache.queried, "hits": cache.hits}}
        )

    async def models(_: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/stats", stats),
            Route("/v1/models", models),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fanout", type=int, default=6)
    parser.add_argument("--stages", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--prefill-url", default="")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    prefill_url = args.prefill_url.rstrip("/") + "/" if args.prefill_url else ""
    app = make_app(args.fanout, args.stages, args.latency, prefill_url)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
