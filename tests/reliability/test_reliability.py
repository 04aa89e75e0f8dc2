"""The reliability suite's core cases, small and fast (benchmarks/reliability.py runs them big)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from swarm.store import open_store
from tests.fakes.scripted_engine import say
from tests.reliability.faults import CASES, run_case
from tests.reliability.fuzz import FuzzReport, fuzz_chat, fuzz_runs
from tests.reliability.live import live_app
from tests.reliability.storm import storm, storm_scripts


async def test_fuzzed_requests_get_no_5xx_and_only_openai_shaped_errors() -> None:
    report = FuzzReport()
    async with (
        live_app({"": [say("ok")], "orchestrator": [say("the answer")]}) as live,
        httpx.AsyncClient(base_url=live.url, timeout=60) as client,
    ):
        runs = await fuzz_chat(client, 80, report)
        await fuzz_runs(client, 40, runs, report)
    assert report.requests == 120
    assert (report.server_errors, report.not_openai_shaped) == (0, 0), report.examples


async def test_a_disconnect_storm_leaves_nothing_behind() -> None:
    async with live_app(storm_scripts(), latency_s=0.02) as live:
        report = await storm(live, runs=24, concurrency=12, seed=3)
    assert report.cut > 0 and report.five_xx == 0
    leaks = report.as_dict()
    assert {k: v for k, v in leaks.items() if k.endswith("_left")} == {
        "tasks_left": 0,
        "engine_requests_left": 0,
        "live_runs_left": 0,
        "stored_running_left": 0,
        "fds_left": 0,
    }


@pytest.mark.parametrize("name", sorted(CASES))
async def test_injected_faults_end_runs_cleanly_without_lost_events(name: str) -> None:
    report = await run_case(name, 2)
    assert report.clean == 2, report.unclean
    assert report.five_xx == 0 and report.events_lost == 0


async def test_a_store_that_raises_does_not_break_the_run() -> None:
    report = await run_case("engine_error_transient", 1, store_fails=True)
    assert report.clean == 1 and report.five_xx == 0, report.unclean
    assert report.events_lost > 0  # what the store dropped is counted, not hidden


async def test_a_cancelled_write_waiter_does_not_stop_the_store_writer() -> None:
    """A client that disconnects cancels the await on its write; later writes still land."""
    store = open_store(":memory:")
    try:
        gone = store.put_result("run_x", "t1", {"status": "completed"}, wait=True)
        assert gone is not None
        gone.cancel()  # what asyncio.wrap_future does when the awaiting task is cancelled
        store.put_run("run_y", "completed", {"run_id": "run_y"}, None)
        async with asyncio.timeout(10):
            await store.flush()
        assert (await store.get("run_y")) is not None
    finally:
        store.close()
