"""API overhead: kimi-swarm vs vLLM's own OpenAI server on the same model and the same load.

Both serve the embedded SmolLM2-135M (same HF folder, template, engine flags) on
127.0.0.1, side by side; the load alternates between them in ROUNDS rounds. Load: REQUESTS short requests at concurrency CONCURRENCY, once
non-streamed and once streamed, each generating exactly MAX_TOKENS tokens (ignore_eos).
Last line: JSON with requests/s and p50/p99 latency for both, and
ratio = our throughput / vLLM's throughput (all requests of both modes).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.boot import default_model
from tests.servers import ServerProcess, start_command, start_server

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
MAX_TOKENS = int(os.environ.get("BENCH_MAX_TOKENS", "16"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
# Shared by both servers; neither writes an access line per request.
ENGINE_FLAGS = [
    "--max-model-len", "4096", "--max-num-seqs", "16", "--enforce-eager",
    "--disable-uvicorn-access-log",
]  # fmt: skip


async def _one(client: httpx.AsyncClient, url: str, i: int, stream: bool) -> float:
    body = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": f"Tell me fact number {i} about the sea."}],
        "max_tokens": MAX_TOKENS, "temperature": 0, "ignore_eos": True, "stream": stream,
    }  # fmt: skip
    t0 = time.perf_counter()
    if stream:
        async with client.stream("POST", url, json=body) as r:
            r.raise_for_status()
            async for _ in r.aiter_lines():
                pass
    else:
        r = await client.post(url, json=body)
        r.raise_for_status()
        assert r.json()["usage"]["completion_tokens"] == MAX_TOKENS
    return time.perf_counter() - t0


async def _load(base_url: str, stream: bool, n: int) -> dict[str, float]:
    url = f"{base_url}/chat/completions"
    sem = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY)

    async with httpx.AsyncClient(timeout=300, limits=limits) as client:

        async def bounded(i: int) -> float:
            async with sem:
                return await _one(client, url, i, stream)

        t0 = time.perf_counter()
        latencies = sorted(await asyncio.gather(*(bounded(i) for i in range(n))))
        wall = time.perf_counter() - t0
    return {
        "rps": n / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(n - 1, int(0.99 * n))],
        "wall_s": wall,
    }


def _measure(
    servers: dict[str, ServerProcess], rounds: int
) -> dict[str, dict[str, dict[str, float]]]:
    """Alternate the servers round by round so drifting machine load hits both alike."""
    for server in servers.values():
        asyncio.run(_load(server.base_url, False, 2 * CONCURRENCY))  # warm-up
    per_round = max(CONCURRENCY, REQUESTS // rounds)
    raw: dict[str, dict[str, list[dict[str, float]]]] = {
        name: {"nonstream": [], "stream": []} for name in servers
    }
    for r in range(rounds):
        order = list(servers) if r % 2 == 0 else list(reversed(servers))
        for name in order:
            for mode in ("nonstream", "stream"):
                raw[name][mode].append(
                    asyncio.run(_load(servers[name].base_url, mode == "stream", per_round))
                )
    return {
        name: {mode: _merge(runs) for mode, runs in modes.items()} for name, modes in raw.items()
    }


def _merge(runs: list[dict[str, float]]) -> dict[str, float]:
    wall = sum(r["wall_s"] for r in runs)
    n = sum(r["rps"] * r["wall_s"] for r in runs)
    return {
        "rps": n / wall,
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": max(r["p99_ms"] for r in runs),
        "wall_s": wall,
    }


def _vllm_server(model_dir: Path) -> ServerProcess:
    cmd = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
        "--served-model-name", "smollm2", "--chat-template", str(default_model.chat_template_path()),
        "--enable-auto-tool-choice", "--tool-call-parser", default_model.TOOL_PARSER,
        "--host", "127.0.0.1", *ENGINE_FLAGS,
    ]  # fmt: skip
    return start_command(cmd)


def main() -> None:
    model_dir = default_model.ensure_converted()
    servers = {"vllm": _vllm_server(model_dir), "ours": start_server(ENGINE_FLAGS)}
    try:
        results = _measure(servers, ROUNDS)
    finally:
        for server in servers.values():
            server.stop()

    def total_rps(r: dict[str, dict[str, float]]) -> float:
        n = sum(m["rps"] * m["wall_s"] for m in r.values())
        return n / sum(m["wall_s"] for m in r.values())

    ratio = total_rps(results["ours"]) / total_rps(results["vllm"])
    summary = {
        "benchmark": "api_overhead",
        "requests_per_mode": REQUESTS,
        "concurrency": CONCURRENCY,
        "max_tokens": MAX_TOKENS,
        **{
            k: {m: {f: round(x, 2) for f, x in v.items()} for m, v in r.items()}
            for k, r in results.items()
        },
        "ratio": round(ratio, 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
