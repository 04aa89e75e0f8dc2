"""`RunStore` on SQLite or PostgreSQL: a writer thread for writes, worker threads for reads."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, TypeVar

from swarm import codec
from swarm.bus import EventBus, cancel_topic
from swarm.ledger import RunStatus
from swarm.migrations import migrate
from swarm.sqldb import CONTROL_CHANNEL, open_database
from swarm.store import Rows
from swarm.writer import Barrier, Events, Prune, Result, RunRow, Writer, prune_runs
from tools.base import Json

T = TypeVar("T")
# Rows as the driver returns them (`list` is a method name in the class below).
DbRows = list[Any]


class SqlStore:
    def __init__(self, spec: str, *, retention_runs: int = 1000, lease_s: float = 10.0) -> None:
        self.db = open_database(spec)
        self.url = self.db.display
        self.shared = self.db.shared
        self.retention_runs = retention_runs
        self.lease_s = lease_s
        self.replica = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.bus = EventBus()
        self._conn = self.db.connect()
        with self.db.guard(self._conn):
            self.migrated = migrate(self.db, self._conn)
        wconn = self.db.connect() if self.shared else self._conn
        self._writer = Writer(self.db, wconn, self.bus, replica=self.replica, lease_s=lease_s)
        # Events emitted during one loop iteration go to the writer as one op (a fan-out emits
        # hundreds per iteration); any other write sends them first, so op order is kept.
        self._pending: dict[str, list[Json]] = {}
        self._listener: Any = None
        if self.shared:
            from swarm.pglisten import Listener

            self._listener = Listener(self)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self._send_events()
        self._writer.close()
        if self._writer.conn is not self._conn:
            self.db.close(self._writer.conn)
        with self.db.guard(self._conn):
            self.db.close(self._conn)

    # -- writes -------------------------------------------------------------------------------

    def put_events(self, run_id: str, events: list[Json]) -> None:
        if not self._pending:
            try:
                asyncio.get_running_loop().call_soon(self._send_events)
            except RuntimeError:  # no loop: nothing would send them later
                self._writer.submit(Events(run_id, events))
                return
        self._pending.setdefault(run_id, []).extend(events)

    def _send_events(self) -> None:
        pending, self._pending = self._pending, {}
        for run_id, events in pending.items():
            self._writer.submit(Events(run_id, events))

    def put_run(
        self, run_id: str, status: str, record: Json, state: Json | None, *, wait: bool = False
    ) -> Future[None] | None:
        self._send_events()
        return self._writer.submit(RunRow(run_id, status, record, state), wait=wait)

    def put_result(
        self, run_id: str, task_id: str, result: Json, *, wait: bool = False
    ) -> Future[None] | None:
        self._send_events()
        return self._writer.submit(Result(run_id, task_id, result), wait=wait)

    @contextmanager
    def driving(self, run_id: str) -> Iterator[None]:
        self._writer.hold(run_id, True)
        try:
            yield
        finally:
            self._writer.hold(run_id, False)

    async def flush(self) -> None:
        self._send_events()
        fut = self._writer.submit(Barrier(), wait=True)
        assert fut is not None
        await asyncio.wrap_future(fut)

    # -- reads --------------------------------------------------------------------------------

    async def get(self, run_id: str) -> Json | None:
        row = await self._one(
            "SELECT record, status, created, updated FROM runs WHERE id=?", run_id
        )
        if row is None:
            return None
        return {**codec.loads(row[0]), "status": row[1], "created": row[2], "updated": row[3]}

    async def state(self, run_id: str) -> tuple[str, Json] | None:
        row = await self._one("SELECT status, state FROM runs WHERE id=?", run_id)
        if row is None or row[1] is None:
            return None
        return row[0], codec.loads(row[1])

    async def list(
        self, *, limit: int = 20, before: float | None = None, owner: str | None = None
    ) -> Rows:
        mine = "" if owner is None else " AND owner = ?"
        rows = await self._all(
            f"SELECT id, status, created, updated FROM runs WHERE created < ?{mine}"
            " ORDER BY created DESC, id DESC LIMIT ?",
            before if before is not None else float("inf"),
            *(() if owner is None else (owner,)),
            limit,
        )
        return [{"run_id": r[0], "status": r[1], "created": r[2], "updated": r[3]} for r in rows]

    async def events(self, run_id: str, *, after: int = -1, limit: int | None = None) -> Rows:
        return await self._offload(self.events_now, run_id, after, limit)

    def events_now(self, run_id: str, after: int, limit: int | None = None) -> Rows:
        """`events` on the calling thread (the NOTIFY listener's)."""
        sql = "SELECT body FROM events WHERE run_id=? AND seq>? ORDER BY seq"
        args: tuple[Any, ...] = (run_id, after)
        if limit is not None:
            sql, args = sql + " LIMIT ?", (*args, limit)
        return [codec.loads(r[0]) for r in self._run(sql, args)]

    async def last_sequence(self, run_id: str) -> int:
        row = await self._one("SELECT COALESCE(MAX(seq), -1) FROM events WHERE run_id=?", run_id)
        return int(row[0]) if row else -1

    async def results(self, run_id: str) -> dict[str, Json]:
        rows = await self._all("SELECT task_id, body FROM results WHERE run_id=?", run_id)
        return {r[0]: codec.loads(r[1]) for r in rows}

    # -- control ------------------------------------------------------------------------------

    async def claim(self, run_id: str, statuses: tuple[str, ...]) -> bool:
        marks = ",".join("?" * len(statuses))
        now = time.time()
        sql = (
            f"UPDATE runs SET status=?, replica=?, lease_until=?, updated=? WHERE id=?"
            f" AND status IN ({marks})"
        )
        args = (str(RunStatus.RUNNING), self.replica, now + self.lease_s, now, run_id, *statuses)
        return bool(await self._offload(self._rowcount, sql, args))

    async def request_cancel(self, run_id: str) -> None:
        if not self.shared:
            self.bus.publish(cancel_topic(run_id), None)
            return
        await self._offload(self._notify, CONTROL_CHANNEL, f"cancel {run_id}")

    async def prune(self) -> int:
        return await self._offload(self._prune)

    def prune_later(self) -> None:
        self._send_events()
        self._writer.submit(Prune(self.retention_runs))

    # -- helpers ------------------------------------------------------------------------------

    def _prune(self) -> int:
        with self._reading() as conn, self.db.transaction(conn):
            return prune_runs(self.db, conn, self.retention_runs)

    def _notify(self, channel: str, payload: str) -> None:
        with self._reading() as conn:
            self.db.notify(conn, channel, payload)

    def _rowcount(self, sql: str, args: tuple[Any, ...]) -> int:
        with self._reading() as conn:
            return int(conn.execute(self.db.q(sql), args).rowcount)

    def _run(self, sql: str, args: tuple[Any, ...]) -> DbRows:
        with self._reading() as conn:
            return list(conn.execute(self.db.q(sql), args).fetchall())

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        """The read connection, replaced if a failure shows it dropped (PostgreSQL restarts)."""
        conn = self._conn
        with self.db.guard(conn):
            try:
                yield conn
            except Exception:
                self._conn = self.db.revive(conn)
                raise

    async def _all(self, sql: str, *args: Any) -> DbRows:
        return await self._offload(self._run, sql, args)

    async def _one(self, sql: str, *args: Any) -> Any:
        rows = await self._all(sql, *args)
        return rows[0] if rows else None

    async def _offload(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)
