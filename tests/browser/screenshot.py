"""Make the README's picture of the trace page: `python -m tests.browser.screenshot docs/trace-page.png`.

A scripted run with two stages, uneven sub-agents, a failing tool and one failed task,
followed live in the system's headless Chromium; the shot is taken once it has finished.
"""

from __future__ import annotations

import sys

from playwright.sync_api import expect, sync_playwright

from swarm.engine import ChatRequest
from swarm.limits import SwarmLimits
from tests.browser.live_app import CHROMIUM, CHROMIUM_ARGS, live_server
from tests.fakes.scripted_engine import Step, call, calls, say

TOPICS = ["prices", "reviews", "specs", "warranty", "shipping", "stock", "returns", "rivals"]
ORCH = [
    call("create_subagent", {"name": "researcher", "system_prompt": "Research.", "tools": ["add"]}),
    calls(*(("assign_task", {"agent": "researcher", "task": t}) for t in TOPICS)),
    calls(*(("assign_task", {"agent": "researcher", "task": f"check {t}"}) for t in TOPICS[:3])),
    say("Here is the comparison."),
]


def researcher(request: ChatRequest, turn: int) -> Step:
    text = request.messages[1]["content"]
    n = sum(map(ord, text)) % 5
    latency = 0.15 + 0.1 * n
    if text == "stock":
        return Step(error=RuntimeError("upstream went away"), latency_s=latency)
    if turn < 1 + n % 3:
        return call("add", {"a": n, "b": turn}, latency_s=latency)
    return say(f"Findings on {text}: all good.", latency_s=latency)


def main(path: str) -> None:
    scripts = {"orchestrator": [Step(s.content, s.calls, latency_s=0.3) for s in ORCH],
               "researcher": researcher}  # fmt: skip
    with live_server(scripts, limits=SwarmLimits(max_concurrent=6)) as server:
        server.gate.release()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 640})
            with server.swarm_request() as run_id:
                page.goto(f"{server.url}/runs/{run_id}")
                expect(page.locator("body")).to_have_attribute(
                    "data-run-status", "completed", timeout=60_000
                )
            page.click(".row[data-id='t2']")
            page.locator("#detail details.call summary").first.click()
            page.screenshot(path=path)
            browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/trace-page.png")
