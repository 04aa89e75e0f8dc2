"""The run store interface: runs, their events and task results, shared by every replica.

Two implementations behind `open_store` (both `swarm.sqlstore.SqlStore`): an embedded SQLite
file (the default; one process) and PostgreSQL (`postgresql://...`; any number of replicas,
news between them by LISTEN/NOTIFY). Writes are queued to a writer thread in order and never
block the event loop; reads run on worker threads. `bus` hears every committed event.
"""

from __future__ import annotations

from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any, Protocol

from swarm.bus import EventBus
from tools.base import Json

Rows = list[dict[str, Any]]


class RunStore(Protocol):
    url: str  # where it lives, password redacted
    replica: str  # this process's name in leases
    shared: bool  # other replicas may drive runs here
    bus: EventBus

    # Writes: queued now, committed by the writer thread in call order.
    def put_events(self, run_id: str, events: list[Json]) -> None: ...

    def put_run(
        self, run_id: str, status: str, record: Json, state: Json | None, *, wait: bool = False
    ) -> Future[None] | None:
        """Upsert a run's record and resumable state; a `running` run is leased to this replica."""
        ...

    def put_result(
        self, run_id: str, task_id: str, result: Json, *, wait: bool = False
    ) -> Future[None] | None:
        """A finished sub-agent task's result (what a resumed stage need not re-run); `wait`:
        return a future that resolves once it is committed."""
        ...

    def driving(self, run_id: str) -> AbstractContextManager[None]:
        """While open, this replica drives `run_id`: its lease is renewed. A run claimed but
        never driven (or whose driver died) lets the lease run out and becomes `interrupted`."""
        ...

    async def flush(self) -> None:
        """Wait until every write queued so far is committed."""
        ...

    # Reads (off the event loop).
    async def get(self, run_id: str) -> Json | None: ...

    async def state(self, run_id: str) -> tuple[str, Json] | None:
        """(status, resumable state) of a run, when it has state."""
        ...

    async def list(
        self, *, limit: int = 20, before: float | None = None, owner: str | None = None
    ) -> Rows:
        """Newest first; `owner` (a key fingerprint) keeps only that owner's runs."""
        ...

    async def events(self, run_id: str, *, after: int = -1, limit: int | None = None) -> Rows: ...

    async def last_sequence(self, run_id: str) -> int: ...

    async def results(self, run_id: str) -> dict[str, Json]: ...

    # Control.
    async def claim(self, run_id: str, statuses: tuple[str, ...]) -> bool:
        """Atomically take over a run in one of `statuses` (set it running, leased to us)."""
        ...

    async def request_cancel(self, run_id: str) -> None:
        """Ask whichever replica drives `run_id` to cancel it."""
        ...

    async def prune(self) -> int:
        """Drop the oldest finished runs beyond the store's retention; how many went."""
        ...

    def prune_later(self) -> None:
        """`prune`, queued behind the writes queued so far (a run's end does not wait for it)."""
        ...

    def close(self) -> None: ...


def open_store(spec: str, *, retention_runs: int = 1000, lease_s: float = 10.0) -> RunStore:
    """A SQLite path (or ':memory:') or a `postgresql://` URL."""
    from swarm.sqlstore import SqlStore

    return SqlStore(spec, retention_runs=retention_runs, lease_s=lease_s)
