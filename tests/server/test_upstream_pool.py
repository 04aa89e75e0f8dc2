"""The upstream pool over `httpx.MockTransport`: failover, health, least outstanding, affinity, metrics."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import REGISTRY

from server.engines.replica import Replica
from server.engines.routing import Affinity
from server.engines.upstream import UpstreamEngine
from swarm.engine import ChatRequest, Delta, ModelInfo
from swarm.errors import EngineUnavailable

SSE = (
    'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"hi"}}]}\n\n'
    'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
    'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\n'
    "data: [DONE]\n\n"
)
_ids = itertools.count()


class Hub:
    """Replicas behind one MockTransport, told apart by host: who got which call, and faults."""

    def __init__(self, n: int = 3) -> None:
        tag = next(_ids)  # metrics are process-wide: fresh labels per test
        self.hosts = [f"pool{tag}-{chr(97 + i)}" for i in range(n)]
        self.calls: dict[str, list[httpx.Request]] = defaultdict(list)
        self.probes: list[str] = []
        self.down: set[str] = set()
        self.statuses: dict[str, list[httpx.Response]] = defaultdict(list)
        self.gate: asyncio.Event | None = None  # set: streams wait for it before finishing
        self.break_mid_stream = False
        self.arrivals: asyncio.Queue[str] = asyncio.Queue()

    def url(self, i: int) -> str:
        return f"http://{self.hosts[i]}/v1"

    def handler(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if request.method == "GET":
            self.probes.append(str(request.url))
            if host in self.down:
                raise httpx.ConnectError("refused", request=request)
            return httpx.Response(200, json={"data": [{"id": "m"}]})
        self.calls[host].append(request)
        self.arrivals.put_nowait(host)
        if host in self.down:
            raise httpx.ConnectError("refused", request=request)
        if self.statuses[host]:
            return self.statuses[host].pop(0)
        return httpx.Response(
            200, content=self._body(), headers={"content-type": "text/event-stream"}
        )

    async def _body(self) -> AsyncIterator[bytes]:
        yield SSE.split("\n\n")[0].encode() + b"\n\n"
        if self.break_mid_stream:
            raise httpx.ReadError("connection reset")
        if self.gate is not None:
            await self.gate.wait()
        yield SSE.split("\n\n", 1)[1].encode()

    def served(self) -> dict[str, int]:
        return {h: len(self.calls[h]) for h in self.hosts}

    def engine(self, affinity: Affinity | None = None, **kw: float) -> UpstreamEngine:
        transport = httpx.MockTransport(self.handler)
        replicas = [
            Replica(httpx.AsyncClient(transport=transport, base_url=self.url(i) + "/"), self.url(i))
            for i in range(len(self.hosts))
        ]
        return UpstreamEngine(
            replicas, ModelInfo(name="m"), "m", backoff_s=0.001, affinity=affinity, **kw
        )  # type: ignore[arg-type]


def metric(name: str, replica: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"replica": replica, **labels})


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []

    async def fake_sleep(s: float) -> None:
        waits.append(s)

    monkeypatch.setattr("server.engines.upstream.asyncio.sleep", fake_sleep)
    return waits


async def call(engine: UpstreamEngine, key: str = "", rid: str = "") -> str:
    request = ChatRequest(
        messages=[{"role": "user", "content": "x"}], affinity_key=key, request_id=rid
    )
    parts = [e.content async for e in engine.stream(request) if isinstance(e, Delta) and e.content]
    return "".join(parts)


async def test_a_refused_connection_fails_over_at_once_and_leaves_rotation(
    sleeps: list[float],
) -> None:
    hub = Hub()
    engine = hub.engine()
    a, b, _ = hub.hosts
    hub.down.add(a)
    assert await call(engine) == "hi"
    assert hub.served() == {a: 1, b: 1, hub.hosts[2]: 0} and sleeps == []
    assert not engine.replicas[0].healthy
    assert metric("kimi_swarm_upstream_healthy", hub.url(0)) == 0
    assert metric("kimi_swarm_upstream_failures_total", hub.url(0), kind="transport") == 1
    for _ in range(4):  # out of rotation: no further call reaches it
        await call(engine)
    assert hub.served()[a] == 1
    hub.down.clear()
    await engine.check_health()  # a passing probe brings it back
    assert engine.replicas[0].healthy and metric("kimi_swarm_upstream_healthy", hub.url(0)) == 1
    await call(engine)
    assert hub.served()[a] == 2


async def test_5xx_and_429_fail_over_then_back_off_once_every_replica_failed(
    sleeps: list[float],
) -> None:
    hub = Hub()
    a, b, c = hub.hosts
    hub.statuses[a] = [httpx.Response(503)]
    hub.statuses[b] = [httpx.Response(429, headers={"Retry-After": "2"})]
    engine = hub.engine()
    assert await call(engine) == "hi"
    assert hub.served() == {a: 1, b: 1, c: 1} and sleeps == []  # failover needs no wait
    assert metric("kimi_swarm_upstream_failures_total", hub.url(1), kind="status") == 1
    # Every replica fails once: only then does the pool wait (Retry-After of the last one).
    hub.statuses[a] = [httpx.Response(500)]
    hub.statuses[b] = [httpx.Response(502)]
    hub.statuses[c] = [httpx.Response(429, headers={"Retry-After": "3"})]
    assert await call(engine) == "hi"
    assert sleeps == [3.0] and sum(hub.served().values()) == 7
    assert all(r.healthy for r in engine.replicas)  # overload is not ejection


async def test_retries_are_bounded_and_client_errors_not_retried(sleeps: list[float]) -> None:
    hub = Hub(2)
    for host in hub.hosts:
        hub.statuses[host] = [httpx.Response(503, json={"error": {"message": "busy"}})] * 5
    with pytest.raises(EngineUnavailable, match="busy"):
        await call(hub.engine(max_retries=3))
    assert sum(hub.served().values()) == 4
    hub2 = Hub(2)
    hub2.statuses[hub2.hosts[0]] = [httpx.Response(400, json={"error": {"message": "bad"}})]
    with pytest.raises(Exception, match="bad"):
        await call(hub2.engine())
    assert sum(hub2.served().values()) == 1


async def test_a_stream_that_breaks_after_its_first_byte_is_not_retried(
    sleeps: list[float],
) -> None:
    hub = Hub()
    hub.break_mid_stream = True
    engine = hub.engine()
    with pytest.raises(EngineUnavailable, match="stream broke"):
        await call(engine)
    assert sum(hub.served().values()) == 1
    assert all(r.outstanding == 0 for r in engine.replicas)


async def _hold(engine: UpstreamEngine, hub: Hub, keys: list[str]) -> list[asyncio.Task[str]]:
    """Start one held stream per key; return once each has reached its replica."""
    tasks = [asyncio.create_task(call(engine, key)) for key in keys]
    for _ in keys:
        await hub.arrivals.get()
    return tasks


async def test_least_outstanding_spreads_concurrent_calls() -> None:
    hub = Hub()
    hub.gate = asyncio.Event()
    engine = hub.engine()
    tasks = await _hold(engine, hub, [""] * 6)
    assert [r.outstanding for r in engine.replicas] == [2, 2, 2]
    assert metric("kimi_swarm_upstream_outstanding", hub.url(0)) == 2
    hub.gate.set()
    assert [await t for t in tasks] == ["hi"] * 6
    assert [r.outstanding for r in engine.replicas] == [0, 0, 0]
    assert metric("kimi_swarm_upstream_requests_total", hub.url(2)) == 2


async def test_a_runs_calls_share_one_replica_until_it_is_overloaded() -> None:
    hub = Hub()
    hub.gate = asyncio.Event()
    engine = hub.engine(Affinity(abs_threshold=2, rel_threshold=1.0))
    tasks = await _hold(engine, hub, ["run-1"] * 3)
    home = engine.router.home_of("run-1")
    assert home is not None and home.outstanding == 3
    # 3 in flight vs 0 elsewhere exceeds the threshold of 2: the 4th call spills.
    tasks += await _hold(engine, hub, ["run-1"])
    assert home.outstanding == 3 and sum(r.outstanding for r in engine.replicas) == 4
    assert metric("kimi_swarm_upstream_affinity_spills_total", home.name) == 1
    # Another run gets a home of its own (the least loaded replica).
    tasks += await _hold(engine, hub, ["run-2"])
    assert engine.router.home_of("run-2") is not home
    hub.gate.set()
    await asyncio.gather(*tasks)


async def test_request_id_and_model_reach_the_replica() -> None:
    hub = Hub(1)
    await call(hub.engine(), rid="run/agent/t1/0")
    sent = hub.calls[hub.hosts[0]][0]
    assert sent.headers["x-request-id"] == "run/agent/t1/0"
    assert b'"model":"m"' in sent.content.replace(b" ", b"")


async def test_start_probes_replicas_and_the_watcher_brings_one_back() -> None:
    hub = Hub(2)
    hub.down.add(hub.hosts[0])
    transport = httpx.MockTransport(hub.handler)
    urls = ",".join([hub.url(0), hub.url(1)]).split(",")
    async with UpstreamEngine.start(
        urls, transport=transport, health_interval_s=0.01, health_path="/health"
    ) as engine:
        assert engine.info.name == "m"  # discovered from a healthy replica's /models
        assert [r.healthy for r in engine.replicas] == [False, True] and await engine.healthy()
        assert f"http://{hub.hosts[0]}/health" in hub.probes  # a root path leaves /v1
        hub.down.clear()
        for _ in range(500):
            if engine.replicas[0].healthy:
                break
            await asyncio.sleep(0.01)
        assert engine.replicas[0].healthy
        hub.down.update(hub.hosts)
        for _ in range(500):
            if not await engine.healthy():
                break
            await asyncio.sleep(0.01)
        assert not await engine.healthy()
