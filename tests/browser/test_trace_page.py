"""The live trace page in a real Chromium, following a scripted swarm run over real HTTP."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, Page, Request, Route, expect

from swarm.engine import ChatRequest
from swarm.limits import SwarmLimits
from tests.browser.live_app import live_server
from tests.fakes.scripted_engine import Step, call, calls, say

TASKS = 6
ORCH = [
    call("create_subagent", {"name": "w", "system_prompt": "Work.", "tools": ["gate", "add"]}),
    calls(*(("assign_task", {"agent": "w", "task": str(n)}) for n in range(TASKS))),
    say("all done"),
]


def worker(request: ChatRequest, turn: int) -> Step:
    """Wait at the gate, add, then answer."""
    n = int(request.messages[1]["content"])
    if turn == 0:
        return call("gate", {})
    if turn == 1:
        return call("add", {"a": n, "b": 100})
    return say(f"task {n} is done")


SCRIPTS = {"orchestrator": ORCH, "w": worker}


def enter_key(page: Page, key: str) -> None:
    expect(page.locator("#key-form")).to_be_visible()
    page.fill("#key-input", key)
    page.click("#key-form button[type=submit]")


def test_page_follows_a_live_run_with_api_keys_on(browser: Browser) -> None:
    limits = SwarmLimits(max_concurrent=4)
    with live_server(SCRIPTS, api_key="sekret", limits=limits) as server:
        page = browser.new_page()
        with server.swarm_request() as run_id:
            page.goto(f"{server.url}/runs/{run_id}")
            enter_key(page, "sekret")  # the first read answered 401: the page asks once
            rows = page.locator("#rows .row[data-id^='t']")
            # Mid-run: four tasks wait at the gate, two wait for a slot.
            expect(page.locator(".row[data-id^='t'][data-status='running']")).to_have_count(4)
            expect(page.locator(".row[data-id^='t'][data-status='queued']")).to_have_count(2)
            expect(page.locator("body")).to_have_attribute("data-run-status", "running")
            server.gate.release()
            expect(page.locator("body")).to_have_attribute(
                "data-run-status", "completed", timeout=30_000
            )
        expect(rows).to_have_count(TASKS)
        expect(page.locator(".row[data-id^='t'][data-status='completed']")).to_have_count(TASKS)
        expect(page.locator(".row[data-id^='t'] .seg.run.completed")).to_have_count(TASKS)
        expect(page.locator(".row.critical")).to_have_count(1)  # one stage with tasks
        expect(page.locator(".row[data-id='orchestrator'] .seg.think")).to_have_count(3)
        summary = page.locator("#summary").inner_text()
        assert "critical / total steps" in summary and "6 (0 queued" in summary

        page.click(".row[data-id='t3']")
        detail = page.locator("#detail")
        expect(detail.locator("h2")).to_have_text("t3 · w")
        add = detail.locator("details.call", has_text="add")
        add.locator("summary").click()
        expect(add.locator("pre").nth(0)).to_contain_text('"a": 2')
        expect(add.locator("pre").nth(1)).to_have_text("102")

        page.reload()  # the key was kept: the finished run replays without asking again
        expect(page.locator("#key-form")).to_be_hidden()
        expect(page.locator("body")).to_have_attribute("data-run-status", "completed")
        expect(page.locator(".row[data-id^='t'] .seg.run.completed")).to_have_count(TASKS)

        page.goto(f"{server.url}/runs")
        expect(page.locator(f"#run-table a[href='/runs/{run_id}']")).to_have_count(1)
        page.close()


def test_page_without_a_key_says_so(browser: Browser) -> None:
    with live_server(SCRIPTS, api_key="sekret") as server:
        resp = httpx.get(f"{server.url}/runs")
        assert resp.status_code == 200 and "text/html" in resp.headers["content-type"]
        assert httpx.get(f"{server.url}/runs/static/nope.js").status_code == 404
        page = browser.new_page()
        page.goto(f"{server.url}/runs")
        expect(page.locator("#message")).to_contain_text("needs an API key")
        enter_key(page, "wrong")
        expect(page.locator("#message")).to_contain_text("needs an API key")
        page.close()


def first_frames(url: str, count: int) -> bytes:
    """The first `count` SSE frames of a live event stream (then the connection is dropped)."""
    frames: list[bytes] = []
    with httpx.stream("GET", url, timeout=30) as resp:
        buffer = b""
        for chunk in resp.iter_bytes():
            buffer += chunk
            *done, buffer = buffer.split(b"\n\n")
            frames += [f + b"\n\n" for f in done if not f.startswith(b":")]
            if len(frames) >= count:
                return b"".join(frames[:count])
    raise AssertionError("the stream ended early")


def test_page_resumes_a_cut_event_stream(browser: Browser) -> None:
    """A stream cut mid-run (a proxy, a network blip): the page reconnects after the last id."""
    with live_server(SCRIPTS) as server:
        page = browser.new_page()
        asked: list[str | None] = []

        def events(route: Route, request: Request) -> None:
            asked.append(request.headers.get("last-event-id"))
            if len(asked) > 1:
                route.continue_()
                return
            body = first_frames(request.url, 3)  # run.started, agent.created, task.queued
            route.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body=body)

        page.route("**/v1/swarm/runs/*/events", events)
        with server.swarm_request() as run_id:
            page.goto(f"{server.url}/runs/{run_id}")
            expect(page.locator(".row[data-id^='t'][data-status='running']")).to_have_count(6)
            server.gate.release()
            expect(page.locator("body")).to_have_attribute(
                "data-run-status", "completed", timeout=30_000
            )
        assert asked[:2] == [None, "2"]  # the second request resumed after sequence 2
        expect(page.locator(".row[data-id^='t'][data-status='completed']")).to_have_count(TASKS)
        page.close()


def test_page_shows_a_failed_run(browser: Browser) -> None:
    scripts = {
        "orchestrator": [
            ORCH[0],
            call("assign_task", {"agent": "w", "task": "1"}),
            Step(error=RuntimeError("the orchestrator's engine broke")),
        ],
        "w": [call("add", {"a": 1, "b": 2}), say("three, as asked")],
    }
    with live_server(scripts) as server:
        with server.swarm_request() as run_id:
            pass
        page = browser.new_page()
        page.goto(f"{server.url}/runs/{run_id}")
        expect(page.locator("body")).to_have_attribute("data-run-status", "failed")
        expect(page.locator("#summary")).to_contain_text("the orchestrator's engine broke")
        expect(page.locator(".row[data-id='t1']")).to_have_attribute("data-status", "completed")
        expect(page.locator(".row[data-id='orchestrator']")).to_have_attribute(
            "data-status", "failed"
        )
        page.close()


def test_page_behind_a_proxy_prefix(browser: Browser) -> None:
    """--root-path /api: the page's links, files and API calls all keep the prefix."""
    with live_server(SCRIPTS, root_path="/api") as server:
        server.gate.release()
        with server.swarm_request() as run_id:
            pass
        page = browser.new_page()
        # The proxy: strips /api, and nothing else gets through.
        page.route(f"{server.url}/**", lambda route: route.abort())
        page.route(
            f"{server.url}/api/**",
            lambda route: route.continue_(url=route.request.url.replace("/api/", "/", 1)),
        )
        page.goto(f"{server.url}/api/runs/{run_id}")
        expect(page.locator("body")).to_have_attribute("data-run-status", "completed")
        expect(page.locator(".row[data-id^='t'] .seg.run.completed")).to_have_count(TASKS)
        page.click("header .brand")
        expect(page.locator(f"#run-table a[href='/api/runs/{run_id}']")).to_have_count(1)
        page.close()
