"""The store's writer thread: every write, in order, batched into few transactions, off the loop.

Events are queued the moment they are emitted; whatever has queued while the previous batch
was being written goes into the next transaction (a fan-out's burst costs one commit). After a
commit the batch's events are published on the bus (and, on PostgreSQL, announced by NOTIFY in
the same transaction), so a follower only ever hears of events it can also read back.

Between batches the thread renews the leases of the runs this replica drives and marks runs
whose lease expired (their replica died) as `interrupted`, with a closing `run.failed` event.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any

from swarm import codec
from swarm.bus import EventBus
from swarm.events import EventType
from swarm.ledger import RunStatus
from swarm.sqldb import EVENTS_CHANNEL, Database
from tools.base import Json

log = logging.getLogger("kimi_swarm.store")

_BATCH = 2000


@dataclass(slots=True)
class Events:
    run_id: str
    events: list[Json]


@dataclass(slots=True)
class RunRow:
    run_id: str
    status: str
    record: Json
    state: Json | None


@dataclass(slots=True)
class Result:
    run_id: str
    task_id: str
    body: Json


@dataclass(slots=True)
class Barrier:
    """Resolves once everything queued before it is committed."""


@dataclass(slots=True)
class Prune:
    """Drop the oldest finished runs beyond `keep` (a run's end queues one; nobody waits)."""

    keep: int


Op = Events | RunRow | Result | Barrier | Prune


class Writer:
    def __init__(
        self, db: Database, conn: Any, bus: EventBus, *, replica: str, lease_s: float
    ) -> None:
        self.db, self.conn, self.bus = db, conn, bus
        self.replica, self.lease_s = replica, lease_s
        self._queue: queue.SimpleQueue[tuple[Op, Future[None] | None] | None] = queue.SimpleQueue()
        self._closed = False
        # Runs this replica drives right now: only their leases are renewed.
        self._held: set[str] = set()
        self._held_lock = threading.Lock()
        self._thread = threading.Thread(target=self._main, name="swarm-store-writer", daemon=True)
        self._thread.start()

    def submit(self, op: Op, *, wait: bool = False) -> Future[None] | None:
        fut: Future[None] | None = Future() if wait else None
        if self._closed:  # nothing will write it: fail now rather than leave a waiter hanging
            if fut is not None:
                fut.set_exception(RuntimeError("the run store is closed"))
            return fut
        self._queue.put((op, fut))
        return fut

    def hold(self, run_id: str, on: bool) -> None:
        with self._held_lock:
            (self._held.add if on else self._held.discard)(run_id)

    def held(self) -> list[str]:
        with self._held_lock:
            return list(self._held)

    def close(self) -> None:
        self._closed = True
        self._queue.put(None)
        self._thread.join()

    def _main(self) -> None:
        next_tick = 0.0  # sweep once at start: runs a crashed process left 'running'
        stop = False
        while not stop:
            batch, stop = self._take(max(0.0, next_tick - time.monotonic()))
            if batch:
                self._apply(batch)
            if time.monotonic() >= next_tick:
                self._leases()
                next_tick = time.monotonic() + self.lease_s / 3

    def _take(self, timeout: float) -> tuple[list[tuple[Op, Future[None] | None]], bool]:
        """The next batch (what queued meanwhile, up to a bound) and whether `close` came."""
        batch: list[tuple[Op, Future[None] | None]] = []
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return batch, False
        while item is not None:
            batch.append(item)
            if len(batch) >= _BATCH:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
        return batch, True

    def _apply(self, batch: list[tuple[Op, Future[None] | None]]) -> None:
        published: dict[str, list[Json]] = {}
        try:
            with self.db.guard(self.conn), self.db.transaction(self.conn):
                for op, _ in batch:
                    self._write(op, published)
                for run_id, events in published.items():
                    last = events[-1]["sequence_number"]
                    self.db.notify(self.conn, EVENTS_CHANNEL, f"{run_id} {last}")
        except Exception as exc:
            log.exception("run store write failed (%d queued writes lost)", len(batch))
            for _, fut in batch:
                if fut is not None:
                    _settle(fut, exc)
            self.conn = self.db.revive(self.conn)
            return
        for run_id, events in published.items():
            self.bus.publish_events(run_id, events)
        for _, fut in batch:
            if fut is not None:
                _settle(fut, None)

    def _write(self, op: Op, published: dict[str, list[Json]]) -> None:
        q, conn = self.db.q, self.conn
        if isinstance(op, Events):
            cur = conn.cursor()
            cur.executemany(
                q("INSERT INTO events (run_id, seq, body) VALUES (?,?,?)"
                  " ON CONFLICT (run_id, seq) DO NOTHING"),
                [(op.run_id, e["sequence_number"], codec.dumps(e)) for e in op.events],
            )  # fmt: skip
            cur.close()
            published.setdefault(op.run_id, []).extend(op.events)
        elif isinstance(op, RunRow):
            now = time.time()
            driving = op.status == RunStatus.RUNNING
            conn.execute(
                q("INSERT INTO runs (id, created, updated, status, record, state, replica,"
                  " lease_until, owner) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET"
                  " updated=excluded.updated, status=excluded.status, record=excluded.record,"
                  " state=excluded.state, replica=excluded.replica,"
                  " lease_until=excluded.lease_until"),
                (op.run_id, now, now, op.status, codec.dumps(op.record),
                 None if op.state is None else codec.dumps(op.state),
                 self.replica if driving else None, now + self.lease_s if driving else None,
                 op.record.get("owner")),
            )  # fmt: skip
        elif isinstance(op, Result):
            conn.execute(
                q("INSERT INTO results (run_id, task_id, body) VALUES (?,?,?)"
                  " ON CONFLICT (run_id, task_id) DO UPDATE SET body=excluded.body"),
                (op.run_id, op.task_id, codec.dumps(op.body)),
            )  # fmt: skip
        elif isinstance(op, Prune):
            prune_runs(self.db, conn, op.keep)

    def _leases(self) -> None:
        """Renew ours; close runs whose replica stopped renewing (it died)."""
        q, conn, now = self.db.q, self.conn, time.time()
        published: dict[str, list[Json]] = {}
        try:
            with self.db.guard(conn), self.db.transaction(conn):
                cur = conn.cursor()
                cur.executemany(
                    q("UPDATE runs SET lease_until=? WHERE id=? AND replica=? AND status=?"),
                    [(now + self.lease_s, run_id, self.replica, str(RunStatus.RUNNING))
                     for run_id in self.held()],
                )  # fmt: skip
                cur.close()
                lost = conn.execute(
                    q("UPDATE runs SET status=?, updated=?, replica=NULL WHERE status=?"
                      " AND (lease_until IS NULL OR lease_until < ?) RETURNING id"),
                    (str(RunStatus.INTERRUPTED), now, str(RunStatus.RUNNING), now),
                ).fetchall()  # fmt: skip
                for (run_id,) in lost:
                    event = self._interrupted(run_id, now)
                    published[run_id] = [event]
                    self.db.notify(conn, EVENTS_CHANNEL, f"{run_id} {event['sequence_number']}")
        except Exception:
            log.exception("run store lease upkeep failed")
            return
        for run_id, events in published.items():
            log.warning("swarm run %s interrupted: its replica stopped renewing its lease", run_id)
            self.bus.publish_events(run_id, events)

    def _interrupted(self, run_id: str, now: float) -> Json:
        q, conn = self.db.q, self.conn
        (seq,) = conn.execute(
            q("SELECT COALESCE(MAX(seq), -1) + 1 FROM events WHERE run_id=?"), (run_id,)
        ).fetchone()
        event: Json = {
            "type": str(EventType.RUN_FAILED),
            "sequence_number": seq,
            "run_id": run_id,
            "time": now,
            "data": {
                "status": str(RunStatus.INTERRUPTED),
                "error": "the replica driving this run stopped (its lease expired); resume it",
            },
        }
        conn.execute(
            q("INSERT INTO events (run_id, seq, body) VALUES (?,?,?)"),
            (run_id, seq, codec.dumps(event)),
        )
        return event


def prune_runs(db: Database, conn: Any, keep: int) -> int:
    """Delete every finished run but the newest `keep` (with its events and results), inside
    the caller's transaction; how many went."""
    q = db.q
    old = [
        r[0]
        for r in conn.execute(
            q("SELECT id FROM runs WHERE status<>? AND id NOT IN (SELECT id FROM runs"
              " ORDER BY created DESC, id DESC LIMIT ?)"),
            (str(RunStatus.RUNNING), keep),
        ).fetchall()
    ]  # fmt: skip
    for table, col in (("events", "run_id"), ("results", "run_id"), ("runs", "id")):
        for run_id in old:
            conn.execute(q(f"DELETE FROM {table} WHERE {col}=?"), (run_id,))
    return len(old)


def _settle(fut: Future[None], error: BaseException | None) -> None:
    """Complete a write's future; one its (cancelled) waiter already cancelled stays as is."""
    with contextlib.suppress(InvalidStateError):  # otherwise this thread would die
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)
