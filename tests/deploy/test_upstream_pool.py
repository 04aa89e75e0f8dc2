"""A real `kimi-swarm serve` over three scripted upstream processes: affinity, failover, metrics."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.servers import ServerProcess, start_command, start_server

SCRIPTED = Path(__file__).with_name("swarm_upstream.py")
MODEL = "scripted-kimi"


@pytest.fixture(scope="module")
def upstreams() -> Iterator[list[ServerProcess]]:
    cmd = [sys.executable, str(SCRIPTED), "--fanout", "4", "--stages", "2", "--latency", "0.02"]
    servers = [start_command(cmd, timeout_s=60) for _ in range(3)]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def kimi(upstreams: list[ServerProcess]) -> Iterator[ServerProcess]:
    a, b, c = (u.base_url for u in upstreams)
    args = ["--upstream", a, "--upstream", f"{b},{c}", "--upstream-model", MODEL]
    args += ["--upstream-health-path", "/health", "--upstream-health-interval-s", "0.5"]
    server = start_server(args, timeout_s=180)
    yield server
    server.stop()


def run_swarm(kimi: ServerProcess) -> str:
    client = openai.OpenAI(base_url=kimi.base_url, api_key="unused", max_retries=0)
    reply = client.chat.completions.create(
        model=f"{MODEL}-swarm", messages=[{"role": "user", "content": "research four items"}]
    )
    assert reply.choices[0].message.content == "final answer from the swarm"
    run_id = reply.model_extra["swarm"]["run_id"]  # type: ignore[index]
    return str(run_id)


def calls_of(upstreams: list[ServerProcess], run_id: str) -> list[int]:
    return [httpx.get(f"{u.url}/stats").json()["calls"].get(run_id, 0) for u in upstreams]


def sample(kimi: ServerProcess, name: str, replica: str) -> float:
    text = httpx.get(f"{kimi.url}/metrics").text
    for line in text.splitlines():
        if line.startswith(f'{name}{{replica="{replica}"}}'):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} for {replica}")


def test_a_runs_calls_land_on_one_replica(
    kimi: ServerProcess, upstreams: list[ServerProcess]
) -> None:
    run_id = run_swarm(kimi)
    calls = calls_of(upstreams, run_id)
    # 3 orchestrator calls + 2 stages x 4 sub-agent calls, all on the run's home replica.
    assert sorted(calls) == [0, 0, 11]


def test_a_dead_replica_leaves_rotation_and_runs_go_on(
    kimi: ServerProcess, upstreams: list[ServerProcess]
) -> None:
    before = [sample(kimi, "kimi_swarm_upstream_requests_total", u.base_url) for u in upstreams]
    victim = upstreams[0]
    victim.stop()  # the module's last test: the others keep all three
    for _ in range(3):
        run_id = run_swarm(kimi)
        assert sum(calls_of(upstreams[1:], run_id)) == 11
    assert sample(kimi, "kimi_swarm_upstream_healthy", victim.base_url) == 0
    assert sample(kimi, "kimi_swarm_upstream_healthy", upstreams[1].base_url) == 1
    after = [sample(kimi, "kimi_swarm_upstream_requests_total", u.base_url) for u in upstreams]
    assert after[0] - before[0] <= 1  # at most the one call that found it dead
    assert sum(after) - sum(before) >= 33
