"""How the trace page copes with 256 sub-agents, in the system's headless Chromium.

Replay: a finished run of N one-tool sub-agent tasks is opened; the page reports (in
`body[data-drawn-ms]`) the milliseconds from navigation to the first frame that drew the
whole run. The anchor is the same page on an 8-task run, measured in the same process.
Live: the page follows a 256-task run as it happens; a PerformanceObserver collects the
main thread's long tasks (> 50 ms), the moments the page could not answer input.
`events_fetch_ms` is the same events read by a plain HTTP client (the server's share).
Last line: one JSON object; "ratio" = replay time at 256 tasks / replay time at 8 tasks.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from playwright.sync_api import Browser, expect, sync_playwright

from swarm.engine import ChatRequest
from swarm.limits import SwarmLimits
from tests.browser.live_app import CHROMIUM, CHROMIUM_ARGS, live_server
from tests.fakes.scripted_engine import Step, call, calls, say

BIG, SMALL, REPEATS = 256, 8, 5
LONG_TASKS = """
window.__long = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__long.push(e.duration);
}).observe({ type: "longtask", buffered: true });
"""


def scripts(n: int, latency_s: float) -> dict[str, object]:
    orch = [
        call("create_subagent", {"name": "w", "system_prompt": "Work.", "tools": ["add"]}),
        calls(*(("assign_task", {"agent": "w", "task": str(i)}) for i in range(n))),
        say("done"),
    ]

    def worker(request: ChatRequest, turn: int) -> Step:
        i = int(request.messages[1]["content"])
        if turn == 0:
            return call("add", {"a": i, "b": 1}, latency_s=latency_s)
        return say(f"task {i} finished with a long enough answer", latency_s=latency_s)

    return {"orchestrator": orch, "w": worker}


def limits(n: int) -> SwarmLimits:
    return SwarmLimits(max_subagents=n, max_concurrent=64)


def fetch_ms(url: str) -> float:
    """The same events read by a plain HTTP client: the server's share of a replay."""
    began = time.perf_counter()
    with httpx.stream("GET", url, timeout=60) as resp:
        for _ in resp.iter_bytes():
            pass
    return (time.perf_counter() - began) * 1000


def replay_ms(browser: Browser, n: int) -> tuple[float, float]:
    with live_server(scripts(n, 0.0), limits=limits(n)) as server:  # type: ignore[arg-type]
        server.gate.release()
        with server.swarm_request() as run_id:
            pass  # leaving the block waits for the run to finish
        times = []
        for _ in range(REPEATS):
            page = browser.new_page()
            page.goto(f"{server.url}/runs/{run_id}")
            expect(page.locator("body")).to_have_attribute("data-drawn-ms", _any(), timeout=60_000)
            expect(page.locator(".row[data-id^='t'] .seg.run.completed")).to_have_count(n)
            times.append(float(page.locator("body").get_attribute("data-drawn-ms") or "nan"))
            page.close()
        events_url = f"{server.url}/v1/swarm/runs/{run_id}/events"
        fetched = statistics.median(fetch_ms(events_url) for _ in range(REPEATS))
        return statistics.median(times), fetched


def live_long_tasks(browser: Browser, n: int) -> dict[str, float]:
    with live_server(scripts(n, 0.05), limits=limits(n)) as server:  # type: ignore[arg-type]
        server.gate.release()
        page = browser.new_page()
        page.add_init_script(LONG_TASKS)
        with server.swarm_request() as run_id:
            page.goto(f"{server.url}/runs/{run_id}")
            expect(page.locator("body")).to_have_attribute(
                "data-run-status", "completed", timeout=120_000
            )
        expect(page.locator(".row[data-id^='t'] .seg.run.completed")).to_have_count(n)
        long = page.evaluate("window.__long")
        events = int(page.locator("body").get_attribute("data-events") or 0)
        slowest = float(page.locator("body").get_attribute("data-slowest-frame-ms") or 0)
        page.close()
    return {
        "long_tasks": len(long),
        "longest_task_ms": max(long, default=0.0),
        "slowest_frame_ms": slowest,
        "events": events,
    }


def _any() -> object:
    import re

    return re.compile(r".+")


def main() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        small, _ = replay_ms(browser, SMALL)
        big, big_fetch = replay_ms(browser, BIG)
        live = live_long_tasks(browser, BIG)
        browser.close()
    print(f"replay to first full frame: {SMALL} tasks {small:.0f} ms, {BIG} tasks {big:.0f} ms")
    print(f"the {BIG}-task run's events over plain HTTP: {big_fetch:.0f} ms")
    print(f"live {BIG}-task run: {live}")
    result = {
        "tasks": BIG,
        "replay_ms": round(big, 1),
        "events_fetch_ms": round(big_fetch, 1),
        "anchor_tasks": SMALL,
        "anchor_replay_ms": round(small, 1),
        "live_events": live["events"],
        "live_long_tasks": live["long_tasks"],
        "live_longest_task_ms": round(live["longest_task_ms"], 1),
        "live_slowest_frame_ms": live["slowest_frame_ms"],
        "ratio": round(big / small, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
