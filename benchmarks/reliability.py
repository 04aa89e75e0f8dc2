"""Reliability under bad input, disconnects, faults and load (scripted engine, real HTTP).

(a) schema fuzzing of /v1/chat/completions and /v1/swarm/* with Hypothesis: 5xx replies and
errors that are not OpenAI-shaped; (b) a disconnect storm: streamed swarm runs over a slow
engine, clients cut at random lines: tasks, engine requests, live runs, running records and
file descriptors left afterwards; (c) fault injection (engine errors, cut streams, hung
calls, tool crashes, our own bug in a task, the orchestrator's engine down, a store that
raises): runs that end cleanly and events lost; (d) load: concurrent swarm runs at rising
concurrency: runs/s, p50/p99 and memory at the start and end.

Goal figures: 0 5xx, 0 non-OpenAI errors, 0 leaks, 0 lost events, memory flat. The last
line is one JSON object; its "ratio" is runs/s at the highest concurrency over runs/s at
concurrency 1 (the anchor, measured in the same run).

    .venv/bin/python benchmarks/reliability.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from swarm.store import open_store
from tests.fakes.scripted_engine import say
from tests.reliability.faults import all_cases
from tests.reliability.fuzz import FuzzReport, fuzz_chat, fuzz_runs
from tests.reliability.live import Live, live_app
from tests.reliability.load import level, rss_mb
from tests.reliability.storm import storm, storm_scripts

SIMPLE = {"": [say("ok")], "orchestrator": [say("the answer")]}


async def fuzzing(n: int) -> dict[str, Any]:
    report = FuzzReport()
    async with (
        live_app(SIMPLE) as live,
        httpx.AsyncClient(base_url=live.url, timeout=60) as client,
    ):
        runs = await fuzz_chat(client, n, report)
        await fuzz_runs(client, n // 2, runs, report)
    return asdict(report)


async def disconnect_storm(runs: int) -> dict[str, Any]:
    async with live_app(storm_scripts(), latency_s=0.05) as live:
        report = await storm(live, runs=runs, concurrency=32)
    return report.as_dict()


async def faults(runs: int) -> dict[str, Any]:
    reports = await all_cases(runs)
    return {
        name: {k: v for k, v in asdict(r).items() if k != "unclean" or v}
        for name, r in reports.items()
    }


async def load(levels: list[int], runs_per_level: int) -> dict[str, Any]:
    """Memory is read after a warm-up pass at the top level (the store then holds its
    retention's worth of runs) and again after every level: flat means no growth between."""
    store = open_store(":memory:", retention_runs=50)
    async with live_app(storm_scripts(), latency_s=0.01, store=store) as live:
        await level(live, levels[-1], 2 * levels[-1])  # warm-up
        mem_start = _server_rss(live)
        out = [asdict(await level(live, c, max(runs_per_level, 2 * c))) for c in levels]
        mem_end = _server_rss(live)
    return {"levels": out, "rss_mb_start": mem_start, "rss_mb_end": mem_end}


def _server_rss(live: Live) -> float:
    """RSS without what the scripted engine keeps for tests (a copy of every request)."""
    for kept in (live.engine.requests, live.engine.finished, live.engine.aborted):
        kept.clear()
    return rss_mb()


async def main(quick: bool) -> dict[str, Any]:
    logging.disable(logging.WARNING)  # the faults are injected on purpose
    fz = await fuzzing(60 if quick else 400)
    st = await disconnect_storm(30 if quick else 120)
    fl = await faults(2 if quick else 5)
    ld = await load([1, 4, 16] if quick else [1, 4, 16, 64], 8 if quick else 32)
    first, last = ld["levels"][0], ld["levels"][-1]
    leaks = sum(st[k] for k in ("tasks_left", "engine_requests_left", "live_runs_left",
                                "stored_running_left", "fds_left"))  # fmt: skip
    summary = {
        "fuzz_requests": fz["requests"],
        "fuzz_5xx": fz["server_errors"],
        "fuzz_not_openai_shaped": fz["not_openai_shaped"],
        "storm_runs": st["runs"],
        "storm_cut": st["cut"],
        "storm_leaks": leaks,
        "fault_runs": sum(r["runs"] for r in fl.values()),
        "fault_runs_clean": sum(r["clean"] for r in fl.values()),
        "fault_5xx": sum(r["five_xx"] for r in fl.values()),
        # Lost to the client or from a working store; a store that raises loses what it drops.
        "fault_events_lost": sum(r["events_lost"] for n, r in fl.items() if n != "store_raises"),
        "store_outage_events_not_stored": fl["store_raises"]["events_lost"],
        "load_runs_per_s": {str(lv["concurrency"]): lv["runs_per_s"] for lv in ld["levels"]},
        "load_p99_ms": {str(lv["concurrency"]): lv["p99_ms"] for lv in ld["levels"]},
        "rss_mb_start": ld["rss_mb_start"],
        "rss_mb_end": ld["rss_mb_end"],
        "ratio": round(last["runs_per_s"] / first["runs_per_s"], 3),
    }
    print(json.dumps({"fuzz": fz, "storm": st, "faults": fl, "load": ld}, indent=1))
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts (a smoke run)")
    print(json.dumps(asyncio.run(main(parser.parse_args().quick))))
