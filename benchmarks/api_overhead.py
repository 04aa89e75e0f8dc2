"""API overhead: kimi-swarm vs vLLM's own OpenAI server on the same model and the same load.

Both serve the embedded SmolLM2-135M (same HF folder, template, engine flags) on
127.0.0.1, side by side; the load alternates between them in ROUNDS rounds. Four modes of
REQUESTS short requests each at concurrency CONCURRENCY: non-streamed and streamed, at
max_tokens=1 and at max_tokens=16 (ignore_eos, so every request generates exactly that).

With a 135M model the engine dominates wall time, so throughput alone cannot see the API
layer. What can: the CPU time of the API process. Both servers run vLLM's engine core in a
child process; we read user+system CPU of the server's *main* process only (psutil, no
children): HTTP, request parsing, chat template, tokenizer/detokenizer, output
processing and SSE encoding, the part each server's own code decides.

Last line: JSON with requests/s, p50/p99 latency, API CPU ms per request per mode, API CPU
µs per streamed token (the stream-16 vs stream-1 difference / 15) for both, and
ratio = vLLM's API CPU per request / ours over all modes (> 1: ours is cheaper).
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
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.boot import default_model
from tests.servers import ServerProcess, start_command, start_server

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "160"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "4"))
WARMUP = int(os.environ.get("BENCH_WARMUP", str(2 * CONCURRENCY)))  # requests per mode
MODES = {  # name: (stream, max_tokens)
    "nonstream_1": (False, 1),
    "stream_1": (True, 1),
    "nonstream_16": (False, 16),
    "stream_16": (True, 16),
}
# Shared by both servers; neither writes an access line per request.
ENGINE_FLAGS = [
    "--max-model-len", "4096", "--max-num-seqs", "16", "--enforce-eager", "--dtype", "float32",
    "--disable-uvicorn-access-log",
]  # fmt: skip


async def _one(client: httpx.AsyncClient, url: str, i: int, stream: bool, tokens: int) -> float:
    body = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": f"Tell me fact number {i} about the sea."}],
        "max_tokens": tokens, "temperature": 0, "ignore_eos": True, "stream": stream,
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
        assert r.json()["usage"]["completion_tokens"] == tokens
    return time.perf_counter() - t0


async def _load(base_url: str, stream: bool, tokens: int, n: int) -> list[float]:
    url = f"{base_url}/chat/completions"
    sem = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY)

    async with httpx.AsyncClient(timeout=300, limits=limits) as client:

        async def bounded(i: int) -> float:
            async with sem:
                return await _one(client, url, i, stream, tokens)

        return list(await asyncio.gather(*(bounded(i) for i in range(n))))


def _api_cpu(server: ServerProcess) -> float:
    """User + system CPU seconds of the server's main process (the engine core is a child)."""
    t = psutil.Process(server.proc.pid).cpu_times()
    return t.user + t.system


def _run_mode(server: ServerProcess, mode: str, n: int) -> dict[str, float | list[float]]:
    stream, tokens = MODES[mode]
    cpu0, t0 = _api_cpu(server), time.perf_counter()
    latencies = asyncio.run(_load(server.base_url, stream, tokens, n))
    return {
        "wall_s": time.perf_counter() - t0,
        "cpu_s": _api_cpu(server) - cpu0,
        "n": n,
        "latencies": latencies,
    }


def _measure(servers: dict[str, ServerProcess], rounds: int) -> dict[str, dict[str, dict]]:  # type: ignore[type-arg]
    """Alternate the servers round by round so drifting machine load hits both alike."""
    for server in servers.values():
        for mode in MODES:
            _run_mode(server, mode, WARMUP)  # warm-up
    per_round = max(CONCURRENCY, REQUESTS // rounds)
    raw: dict[str, dict[str, list[dict]]] = {n: {m: [] for m in MODES} for n in servers}  # type: ignore[type-arg]
    for r in range(rounds):
        order = list(servers) if r % 2 == 0 else list(reversed(servers))
        for name in order:
            for mode in MODES:
                raw[name][mode].append(_run_mode(servers[name], mode, per_round))
    return {name: {m: _merge(runs) for m, runs in modes.items()} for name, modes in raw.items()}


def _merge(runs: list[dict]) -> dict[str, float]:  # type: ignore[type-arg]
    wall = sum(r["wall_s"] for r in runs)
    n = sum(r["n"] for r in runs)
    latencies = sorted(x for r in runs for x in r["latencies"])
    return {
        "rps": n / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(n - 1, int(0.99 * n))],
        "cpu_ms_per_request": 1000 * sum(r["cpu_s"] for r in runs) / n,
        "requests": n,
        "cpu_s": sum(r["cpu_s"] for r in runs),
    }


def _vllm_server(model_dir: Path) -> ServerProcess:
    cmd = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
        "--served-model-name", "smollm2", "--chat-template", str(default_model.chat_template_path()),
        "--enable-auto-tool-choice", "--tool-call-parser", default_model.TOOL_PARSER,
        "--host", "127.0.0.1", *ENGINE_FLAGS,
    ]  # fmt: skip
    return start_command(cmd)


def _summary(r: dict[str, dict[str, float]]) -> dict[str, object]:
    per_token = (r["stream_16"]["cpu_ms_per_request"] - r["stream_1"]["cpu_ms_per_request"]) / 15
    cpu = sum(m["cpu_s"] for m in r.values()) / sum(m["requests"] for m in r.values())
    modes = {
        m: {k: round(v, 3) for k, v in x.items() if k not in ("cpu_s", "requests")}
        for m, x in r.items()
    }
    return {
        **modes,
        "api_cpu_ms_per_request": round(1000 * cpu, 3),
        "api_cpu_us_per_streamed_token": round(1000 * per_token, 1),
    }


def main() -> None:
    model_dir = default_model.ensure_converted()
    servers = {"vllm": _vllm_server(model_dir), "ours": start_server(ENGINE_FLAGS)}
    try:
        results = _measure(servers, ROUNDS)
    finally:
        for server in servers.values():
            server.stop()
    ours, vllm = _summary(results["ours"]), _summary(results["vllm"])
    ratio = float(vllm["api_cpu_ms_per_request"]) / float(ours["api_cpu_ms_per_request"])  # type: ignore[arg-type]
    rps = {
        k: round(results["ours"][m]["rps"] / results["vllm"][m]["rps"], 3)
        for k, m in (("max_tokens_1", "nonstream_1"), ("max_tokens_16", "nonstream_16"))
    }
    summary = {
        "benchmark": "api_overhead",
        "measured": "CPU s of each server's main (API) process; engine core child excluded",
        "requests_per_mode": REQUESTS,
        "concurrency": CONCURRENCY,
        "rounds": ROUNDS,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "ours": ours,
        "vllm": vllm,
        "rps_ratio_ours_vs_vllm": rps,
        "ratio": round(ratio, 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
