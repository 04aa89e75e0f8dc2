"""One upstream replica of the pool: its HTTP client, health, load and Prometheus series."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from prometheus_client import Counter, Gauge

log = logging.getLogger("kimi_swarm.upstream")

OUTSTANDING = Gauge(
    "kimi_swarm_upstream_outstanding", "Calls in flight on an upstream replica", ["replica"]
)
REQUESTS = Counter("kimi_swarm_upstream_requests", "Calls sent to an upstream replica", ["replica"])
FAILURES = Counter(
    "kimi_swarm_upstream_failures",
    "Failed calls on an upstream replica (transport: no connection/broken stream; status: 5xx/429)",
    ["replica", "kind"],
)
HEALTHY = Gauge(
    "kimi_swarm_upstream_healthy", "1 while an upstream replica is in rotation", ["replica"]
)
SPILLS = Counter(
    "kimi_swarm_upstream_affinity_spills",
    "Calls routed away from their run's home replica because it was overloaded",
    ["replica"],
)
PROBE_TIMEOUT_S = 5.0


class Replica:
    """An OpenAI-compatible server at one base URL."""

    def __init__(self, client: httpx.AsyncClient, name: str, health_path: str = "models") -> None:
        self.client = client
        self.name = name
        # Relative to the base URL ("models" = GET <base>/models), or from the root ("/health").
        self.health_path = health_path
        self.healthy = True  # until a probe or a failed connection says otherwise
        self.outstanding = 0
        self.requests = 0
        HEALTHY.labels(name).set(1)
        OUTSTANDING.labels(name).set(0)
        REQUESTS.labels(name)  # every series exists (at 0) from the start
        SPILLS.labels(name)
        for kind in ("transport", "status"):
            FAILURES.labels(name, kind)

    def __repr__(self) -> str:
        return f"Replica({self.name!r}, healthy={self.healthy}, outstanding={self.outstanding})"

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Counts one call as outstanding for as long as the block runs (a stream until closed)."""
        self.outstanding += 1
        self.requests += 1
        OUTSTANDING.labels(self.name).inc()
        REQUESTS.labels(self.name).inc()
        try:
            yield
        finally:
            self.outstanding -= 1
            OUTSTANDING.labels(self.name).dec()

    def failed(self, kind: str) -> None:
        """A failed call; a transport failure also takes the replica out until a probe passes."""
        FAILURES.labels(self.name, kind).inc()
        if kind == "transport":
            self.set_healthy(False, "connection failed")

    def spilled_from(self) -> None:
        SPILLS.labels(self.name).inc()

    def set_healthy(self, ok: bool, why: str = "") -> None:
        if ok != self.healthy:
            state = "back in rotation" if ok else f"out of rotation ({why})"
            log.warning("upstream replica %s %s", self.name, state)
        self.healthy = ok
        HEALTHY.labels(self.name).set(1 if ok else 0)

    async def probe(self) -> bool:
        """GET the health path; 200 keeps (or brings back) the replica in rotation."""
        url = self._health_url()
        try:
            resp = await self.client.get(url, timeout=PROBE_TIMEOUT_S)
        except httpx.HTTPError as exc:
            self.set_healthy(False, f"probe failed: {type(exc).__name__}")
            return False
        ok = resp.status_code == 200
        self.set_healthy(ok, f"probe answered HTTP {resp.status_code}")
        return ok

    def _health_url(self) -> httpx.URL | str:
        if self.health_path.startswith("/"):
            return self.client.base_url.copy_with(path=self.health_path, query=None)
        return self.health_path


def replica_name(url: str) -> str:
    """The metrics label of a base URL: no credentials, no trailing slash."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(username=None, password=None)).rstrip("/")
