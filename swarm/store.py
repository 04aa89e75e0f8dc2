"""The run store: runs and their events in an embedded SQLite database.

Writes are tiny (one row per run, a batch of event rows per orchestrator step),
so they run inline on the event loop. Retention keeps the newest `retention_runs`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from typing import Any

from tools.base import Json

Rows = list[dict[str, Any]]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    status TEXT NOT NULL,
    record TEXT NOT NULL,
    state TEXT
);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
"""


class RunStore:
    def __init__(self, path: str = ":memory:", *, retention_runs: int = 1000) -> None:
        if path != ":memory:":
            path = os.path.expanduser(path)
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self.retention_runs = retention_runs
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def save(
        self, run_id: str, status: str, record: Json, state: Json | None, events: list[Json]
    ) -> None:
        """Upsert a run's record (and resumable state) and append new events, atomically."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO runs (id, created, updated, status, record, state) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT(id) DO UPDATE SET updated=excluded.updated, status=excluded.status,"
                " record=excluded.record, state=excluded.state",
                (run_id, now, now, status, json.dumps(record), _dump(state)),
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO events (run_id, seq, body) VALUES (?,?,?)",
                [(run_id, e["sequence_number"], json.dumps(e)) for e in events],
            )
            self._db.execute("COMMIT")

    def prune(self) -> int:
        """Drop runs beyond the newest `retention_runs`; returns how many went."""
        with self._lock:
            old = [
                r[0]
                for r in self._db.execute(
                    "SELECT id FROM runs ORDER BY created DESC, id DESC LIMIT -1 OFFSET ?",
                    (self.retention_runs,),
                )
            ]
            if old:
                marks = ",".join("?" * len(old))
                self._db.execute("BEGIN")
                self._db.execute(f"DELETE FROM events WHERE run_id IN ({marks})", old)
                self._db.execute(f"DELETE FROM runs WHERE id IN ({marks})", old)
                self._db.execute("COMMIT")
        return len(old)

    def get(self, run_id: str) -> Json | None:
        row = self._one("SELECT record, status, created, updated FROM runs WHERE id=?", (run_id,))
        if row is None:
            return None
        return {**json.loads(row[0]), "status": row[1], "created": row[2], "updated": row[3]}

    def state(self, run_id: str) -> tuple[str, Json] | None:
        """(status, resumable state) of a run, when it has state."""
        row = self._one("SELECT status, state FROM runs WHERE id=?", (run_id,))
        if row is None or row[1] is None:
            return None
        return row[0], json.loads(row[1])

    def list(self, *, limit: int = 20, before: float | None = None) -> Rows:
        """Newest first; `before` pages on the creation time."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, status, created, updated FROM runs WHERE created < ?"
                " ORDER BY created DESC, id DESC LIMIT ?",
                (before if before is not None else float("inf"), limit),
            ).fetchall()
        return [{"run_id": r[0], "status": r[1], "created": r[2], "updated": r[3]} for r in rows]

    def events(self, run_id: str, *, after: int = -1) -> Rows:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM events WHERE run_id=? AND seq>? ORDER BY seq", (run_id, after)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def _one(self, sql: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return tuple(row) if row is not None else None


def _dump(state: Json | None) -> str | None:
    return None if state is None else json.dumps(state)
