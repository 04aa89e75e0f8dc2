"""The two databases a run store can live in, behind one small surface.

SQLite (embedded, one process) or PostgreSQL (shared by replicas, through psycopg 3). Both
expose DB-API connections with `execute(...).fetchall()`; what differs is here: how to connect,
the parameter style, transactions, the schema lock and NOTIFY.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("kimi_swarm.store")

EVENTS_CHANNEL = "kimi_swarm_events"
CONTROL_CHANNEL = "kimi_swarm_control"


class Database:
    """A connection factory plus the dialect's differences."""

    real = "REAL"
    shared = False  # PostgreSQL: many processes; NOTIFY carries news between them

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            path = os.path.expanduser(path)
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.display = path
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def connect(self) -> Any:
        """SQLite: one connection for the process (`:memory:` must be one), serialised by `guard`."""
        if self._conn is None:
            self._conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
        return self._conn

    @contextmanager
    def guard(self, conn: Any) -> Iterator[None]:
        with self._lock:
            yield

    def q(self, sql: str) -> str:
        return sql

    @contextmanager
    def transaction(self, conn: Any) -> Iterator[None]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def lock_schema(self, conn: Any) -> None:
        """BEGIN IMMEDIATE already holds SQLite's write lock."""

    def notify(self, conn: Any, channel: str, payload: str) -> None:
        """One process: the bus in memory is all there is."""

    def revive(self, conn: Any) -> Any:
        """After a failed write: the connection to go on with (SQLite's stays usable)."""
        return conn

    def close(self, conn: Any) -> None:
        if conn is self._conn:
            self._conn = None
        conn.close()


class Postgres(Database):
    real = "DOUBLE PRECISION"
    shared = True

    def __init__(self, url: str) -> None:
        import psycopg  # noqa: F401  (fail at start-up, with the reason, when it is missing)

        self.url = url
        self.display = _redact(url)
        # One lock per connection: psycopg connections serialise themselves, this keeps
        # a transaction's statements together when threads share one.
        self._locks: dict[int, threading.Lock] = {}

    def connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(self.url, autocommit=True, application_name="kimi-swarm")
        self._locks[id(conn)] = threading.Lock()
        return conn

    @contextmanager
    def guard(self, conn: Any) -> Iterator[None]:
        with self._locks[id(conn)]:
            yield

    def q(self, sql: str) -> str:
        return sql.replace("?", "%s")

    @contextmanager
    def transaction(self, conn: Any) -> Iterator[None]:
        with conn.transaction():
            yield

    def lock_schema(self, conn: Any) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('kimi_swarm_schema'))")

    def notify(self, conn: Any, channel: str, payload: str) -> None:
        conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))

    def revive(self, conn: Any) -> Any:
        """A dropped connection (the server restarted, the network broke) is replaced."""
        if not conn.closed and not conn.broken:
            return conn
        try:
            fresh = self.connect()
        except Exception:  # still down: keep the dead one; the next failure tries again
            log.warning("run store: PostgreSQL is still unreachable")
            return conn
        self.close(conn)
        return fresh

    def close(self, conn: Any) -> None:
        self._locks.pop(id(conn), None)
        conn.close()


def open_database(spec: str) -> Database:
    """`postgresql://...` (or `postgres://`) → PostgreSQL; anything else is a SQLite path."""
    if spec.startswith(("postgresql://", "postgres://")):
        return Postgres(spec)
    return Database(spec)


def _redact(url: str) -> str:
    """The URL without its password, for logs."""
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, cred = head.partition("//")
    return f"{scheme}//{cred.split(':', 1)[0]}:***@{tail}"
