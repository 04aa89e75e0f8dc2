"""Two kimi-swarm replicas (real processes) sharing runs through a real PostgreSQL.

One scripted upstream plays the model for both (tests/store/swarm_upstream.py). A run driven
on replica A is followed, cancelled and resumed through replica B; replica A is killed (-9)
mid-fan-out and B resumes the run, re-running only the tasks that had not finished.
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.postgres import Postgres
from tests.servers import ServerProcess, start_command, start_server
from tests.store.conftest import make_database

UPSTREAM = Path(__file__).with_name("swarm_upstream.py")
LEASE_S = 1.5


@pytest.fixture(scope="module")
def upstream() -> Iterator[ServerProcess]:
    server = start_command([sys.executable, str(UPSTREAM), "--hold", "120"], timeout_s=60)
    yield server
    server.stop()


def start_replica(upstream: ServerProcess, store: str) -> ServerProcess:
    return start_server(
        ["--upstream", upstream.base_url, "--swarm-store", store, "--swarm-lease-s",
         str(LEASE_S), "--swarm-tool-mode", "auto",
         # explicit, so the small-model defaults (4 orchestrator steps, 30 s tasks) stay off
         "--swarm-max-orchestrator-steps", "8", "--swarm-subagent-timeout-s", "600"],
        timeout_s=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pair(
    upstream: ServerProcess, postgres: Postgres
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Replicas A and B on one database; the kill test (last) kills A."""
    url = make_database(postgres)
    started: list[ServerProcess] = []
    threads = [
        threading.Thread(target=lambda: started.append(start_replica(upstream, url)))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(started) == 2, "a replica did not start"
    yield started[0], started[1]
    for server in started:
        server.stop()


def swarm_model(server: ServerProcess) -> str:
    ids = [m["id"] for m in httpx.get(f"{server.base_url}/models").json()["data"]]
    return next(i for i in ids if i.endswith("-swarm"))


class Drive(threading.Thread):
    """A streamed swarm chat on one replica, read in the background."""

    def __init__(self, server: ServerProcess, prompt: str) -> None:
        super().__init__(daemon=True)
        self.server, self.prompt = server, prompt
        self.run_id = ""
        self.started = threading.Event()
        self.lines: list[str] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        body = {
            "model": swarm_model(self.server),
            "messages": [{"role": "user", "content": self.prompt}],
            "stream": True,
        }
        try:
            with httpx.stream(
                "POST", f"{self.server.base_url}/chat/completions", json=body, timeout=120
            ) as resp:
                self.run_id = resp.headers["x-swarm-run-id"]
                self.started.set()
                self.lines.extend(resp.iter_lines())
        except httpx.HTTPError as exc:  # the replica was killed under it
            self.error = exc
        finally:
            self.started.set()


def follow(
    server: ServerProcess, run_id: str, until: Any = None, then: Any = None
) -> list[dict[str, Any]]:
    """Events of a run over SSE from `server`, each stamped with its arrival time."""
    events: list[dict[str, Any]] = []
    url = f"{server.base_url}/swarm/runs/{run_id}/events"
    with httpx.stream("GET", url, timeout=60) as resp:
        assert resp.status_code == 200
        for line in resp.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            event["_arrived"] = time.time()
            events.append(event)
            if until is not None and until(events):
                then()
                until = None
    return events


def tasks_done(events: list[dict[str, Any]]) -> int:
    return sum(e["type"] == "task.completed" for e in events)


def test_a_run_on_one_replica_is_followed_and_cancelled_from_the_other(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = pair
    drive = Drive(a, f"tag={uuid.uuid4().hex[:8]} fast=2 slow=2")
    drive.start()
    assert drive.started.wait(60) and drive.run_id, drive.error
    cancelled: list[dict[str, Any]] = []

    def cancel() -> None:
        resp = httpx.post(f"{b.base_url}/swarm/runs/{drive.run_id}/cancel", timeout=30)
        cancelled.append(resp.json())

    events = follow(b, drive.run_id, until=lambda ev: tasks_done(ev) == 2, then=cancel)
    drive.join(30)
    types = [e["type"] for e in events]
    assert cancelled and cancelled[0]["cancelled"] is True, (cancelled, types)
    assert cancelled[0]["status"] == "cancelled"
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[0]["type"] == "run.started" and events[-1]["type"] == "run.failed"
    assert events[-1]["data"]["status"] == "cancelled"
    assert not drive.is_alive() and "data: [DONE]" in drive.lines  # A's client saw the end
    record = httpx.get(f"{a.base_url}/swarm/runs/{drive.run_id}").json()
    assert record["status"] == "cancelled" and record["live"] is False
    lags = [e["_arrived"] - e["time"] for e in events[1:]]
    print(
        f"\ncross-replica follow latency over {len(lags)} events: median "
        f"{statistics.median(lags) * 1000:.1f} ms, max {max(lags) * 1000:.1f} ms"
    )


def test_a_run_paused_on_one_replica_is_resumed_on_the_other(
    pair: tuple[ServerProcess, ServerProcess], upstream: ServerProcess
) -> None:
    a, b = pair
    tag = uuid.uuid4().hex[:8]
    weather = {
        "type": "function",
        "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
    }
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": f"tag={tag} fast=2 tool=get_weather"}
    ]
    body = {"model": swarm_model(a), "messages": messages, "tools": [weather]}
    first = httpx.post(f"{a.base_url}/chat/completions", json=body, timeout=60).json()
    turn = first["choices"][0]
    assert turn["finish_reason"] == "tool_calls", first
    call = turn["message"]["tool_calls"][0]
    messages += [turn["message"], {"role": "tool", "tool_call_id": call["id"], "content": "sunny"}]
    second = httpx.post(f"{b.base_url}/chat/completions", json=body, timeout=60).json()
    run_id = first["swarm"]["run_id"]
    assert second["swarm"]["run_id"] == run_id
    answer = second["choices"][0]["message"]["content"]
    assert answer.startswith("final:") and f"{tag}/fast-1" in answer
    events = httpx.get(f"{a.base_url}/swarm/runs/{run_id}/events", timeout=30).text
    assert events.count('"resumed": true') == 1 and '"status": "completed"' in events
    assert httpx.get(f"{a.base_url}/swarm/runs/{run_id}").json()["status"] == "completed"
    listed = httpx.get(f"{a.base_url}/swarm/runs").json()["data"]
    assert run_id in [r["run_id"] for r in listed]
    url = f"{b.base_url}/swarm/runs/{run_id}/events"
    resumed = httpx.get(url, headers={"Last-Event-ID": "3"}, timeout=30).text
    ids = [int(line[4:]) for line in resumed.splitlines() if line.startswith("id: ")]
    assert ids[0] == 4 and ids == list(range(4, 4 + len(ids)))


def test_killing_a_replica_mid_fan_out_loses_no_finished_task(
    pair: tuple[ServerProcess, ServerProcess], upstream: ServerProcess
) -> None:
    a, b = pair
    tag = uuid.uuid4().hex[:8]
    prompt = f"tag={tag} fast=3 slow=2"
    drive = Drive(a, prompt)
    drive.start()
    assert drive.started.wait(60) and drive.run_id, drive.error
    run_id = drive.run_id

    def kill() -> None:
        a.proc.kill()  # SIGKILL: no shutdown, no final write
        a.proc.wait()

    events = follow(b, run_id, until=lambda ev: tasks_done(ev) == 3, then=kill)
    assert events[-1]["type"] == "run.failed" and events[-1]["data"]["status"] == "interrupted"
    assert tasks_done(events) == 3  # the three fast tasks finished before the kill
    record = httpx.get(f"{b.base_url}/swarm/runs/{run_id}").json()
    assert record["status"] == "interrupted"

    body = {
        "model": swarm_model(b),
        "messages": [{"role": "user", "content": prompt}],
        "swarm": {"run_id": run_id},
    }
    resumed = httpx.post(f"{b.base_url}/chat/completions", json=body, timeout=60).json()
    answer = resumed["choices"][0]["message"]["content"]
    assert all(f"{tag}/{t}" in answer for t in ("fast-0", "fast-2", "slow-0", "slow-1"))
    attempts = {
        k.split("/", 1)[1]: v
        for k, v in httpx.get(f"{upstream.url}/attempts").json().items()
        if k.startswith(tag)
    }
    # Finished tasks were kept; only the two interrupted ones ran again.
    assert attempts == {"fast-0": 1, "fast-1": 1, "fast-2": 1, "slow-0": 2, "slow-1": 2}
    after = follow(b, run_id)
    assert [e["sequence_number"] for e in after] == list(range(len(after)))
    assert after[-1]["type"] == "run.completed" and after[-1]["data"]["status"] == "completed"
    assert resumed["swarm"]["critical_steps"] >= 3
