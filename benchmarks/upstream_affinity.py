"""Run affinity of the upstream pool: share of one swarm run's engine calls on one replica.

Three scripted upstream processes (tests/deploy/swarm_upstream.py: each run = 1 sub-agent,
STAGES stages of FANOUT concurrent tasks, LATENCY_S per call, a simulated prefix cache)
behind a real `kimi-swarm serve --upstream A --upstream B --upstream C`. RUNS swarm runs go
through it, CONCURRENCY at a time, twice: with run affinity (the default) and without
(`--upstream-affinity-threshold -1`: least outstanding requests only, the anchor). Fresh
upstreams per phase, so neither inherits the other's cache.

Per run: share = calls on its busiest replica / its calls. Last line: JSON with the mean
share in both phases, the simulated prefix-cache hit rate (blocks of the prompt already
cached on the replica that took the call), calls per replica, and
ratio = mean share with affinity / mean share without.

BENCH_ENGINE=vllm adds real engines (run it under the engine lock; ~8 GB): each of 2 scripted
upstreams prefills every prompt it receives on its own vLLM server (the embedded SmolLM2,
prefix caching on), and the figures gain vLLM's own prefix-cache hit rate
(`vllm:prefix_cache_hits` / `vllm:prefix_cache_queries`, in tokens) per phase; the cache is
reset between phases.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import ServerProcess, start_command, start_server

SCRIPTED = Path(__file__).resolve().parents[1] / "tests" / "deploy" / "swarm_upstream.py"
MODEL = "scripted-kimi"
REAL_ENGINE = os.environ.get("BENCH_ENGINE") == "vllm"
REPLICAS = 2 if REAL_ENGINE else 3
RUNS = int(os.environ.get("BENCH_RUNS", "12" if REAL_ENGINE else "24"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "6"))
FANOUT, STAGES, LATENCY_S = 6, 2, 0.05


def one_run(kimi: ServerProcess, i: int) -> str:
    body = {
        "model": f"{MODEL}-swarm",
        "messages": [{"role": "user", "content": f"research six items, batch {i}"}],
    }
    resp = httpx.post(f"{kimi.base_url}/chat/completions", json=body, timeout=300)
    resp.raise_for_status()
    return str(resp.json()["swarm"]["run_id"])


def vllm_server() -> ServerProcess:
    from server.boot import default_model

    cmd = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(default_model.ensure_converted()), "--served-model-name", "smollm2",
        "--chat-template", str(default_model.chat_template_path()), "--host", "127.0.0.1",
        "--max-model-len", "8192", "--max-num-seqs", "16", "--enforce-eager",
        "--enable-prefix-caching", "--disable-uvicorn-access-log",
    ]  # fmt: skip
    return start_command(cmd, env={"VLLM_SERVER_DEV_MODE": "1"})


def prefix_cache(engines: list[ServerProcess]) -> tuple[float, float]:
    """(hit tokens, queried tokens) summed over the engines."""
    totals = {"vllm:prefix_cache_hits_total": 0.0, "vllm:prefix_cache_queries_total": 0.0}
    for engine in engines:
        for line in httpx.get(f"{engine.url}/metrics").text.splitlines():
            name = line.split("{", 1)[0].split(" ", 1)[0]
            if name in totals:
                totals[name] += float(line.rsplit(" ", 1)[1])
    return totals["vllm:prefix_cache_hits_total"], totals["vllm:prefix_cache_queries_total"]


def phase(affinity: bool, engines: list[ServerProcess]) -> dict[str, Any]:
    cmd = [sys.executable, str(SCRIPTED), "--fanout", str(FANOUT), "--stages", str(STAGES)]
    cmd += ["--latency", str(LATENCY_S)]
    for engine in engines:
        httpx.post(f"{engine.url}/reset_prefix_cache").raise_for_status()
    hits0, queries0 = prefix_cache(engines)
    upstreams = [
        start_command(
            cmd + ([f"--prefill-url={engines[i].base_url}"] if engines else []), timeout_s=60
        )
        for i in range(REPLICAS)
    ]
    args = [f"--upstream={u.base_url}" for u in upstreams]
    args += ["--upstream-model", MODEL, "--disable-uvicorn-access-log"]
    if not affinity:
        args += ["--upstream-affinity-threshold", "-1"]
    kimi = start_server(args, timeout_s=300)
    try:
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            run_ids = list(pool.map(lambda i: one_run(kimi, i), range(RUNS)))
        stats = [httpx.get(f"{u.url}/stats").json() for u in upstreams]
    finally:
        kimi.stop()
        for u in upstreams:
            u.stop()
    shares = []
    for run_id in run_ids:
        calls = [s["calls"].get(run_id, 0) for s in stats]
        shares.append(max(calls) / sum(calls))
    queried = sum(s["cache"]["queried"] for s in stats)
    hits = sum(s["cache"]["hits"] for s in stats)
    hits1, queries1 = prefix_cache(engines)
    return {
        "vllm_prefix_cache_hit_rate": (
            round((hits1 - hits0) / (queries1 - queries0), 4) if engines else None
        ),
        "mean_share": round(statistics.mean(shares), 4),
        "min_share": round(min(shares), 4),
        "prefix_cache_hit_rate_simulated": round(hits / queried, 4),
        "calls_per_replica": [sum(s["calls"].values()) for s in stats],
    }


def main() -> None:
    engines = [vllm_server() for _ in range(REPLICAS)] if REAL_ENGINE else []
    try:
        with_affinity = phase(True, engines)
        without = phase(False, engines)
    finally:
        for engine in engines:
            engine.stop()
    print(json.dumps({"with_affinity": with_affinity, "without_affinity": without}, indent=1))
    result = {
        "bench": "upstream_affinity",
        "replicas": REPLICAS,
        "runs": RUNS,
        "concurrency": CONCURRENCY,
        "calls_per_run": STAGES + 1 + STAGES * FANOUT,
        "share_with_affinity": with_affinity["mean_share"],
        "share_without_affinity": without["mean_share"],
        "cache_hit_rate_with_affinity": with_affinity["prefix_cache_hit_rate_simulated"],
        "cache_hit_rate_without_affinity": without["prefix_cache_hit_rate_simulated"],
        "vllm_cache_hit_rate_with_affinity": with_affinity["vllm_prefix_cache_hit_rate"],
        "vllm_cache_hit_rate_without_affinity": without["vllm_prefix_cache_hit_rate"],
        "ratio": round(with_affinity["mean_share"] / without["mean_share"], 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
