"""Versioned schema of the run store, the same on SQLite and PostgreSQL.

Each migration runs once, in order, inside one transaction that also records its version in
`schema_migrations`; replicas starting together serialise on a lock (see `Database.lock_schema`).
A store written before versioning (runs + events, no version table) upgrades in place: the
first migration only creates what is missing.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from swarm.sqldb import Database

# (version, what it does, statements); `{real}` is the dialect's double type.
MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "runs and their events",
        [
            "CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, created {real} NOT NULL,"
            " updated {real} NOT NULL, status TEXT NOT NULL, record TEXT NOT NULL, state TEXT)",
            "CREATE INDEX IF NOT EXISTS runs_created ON runs (created)",
            "CREATE TABLE IF NOT EXISTS events (run_id TEXT NOT NULL, seq INTEGER NOT NULL,"
            " body TEXT NOT NULL, PRIMARY KEY (run_id, seq))",
        ],
    ),
    (
        2,
        "leases (the driving replica) and each finished sub-agent task's result",
        [
            "ALTER TABLE runs ADD COLUMN replica TEXT",
            "ALTER TABLE runs ADD COLUMN lease_until {real}",
            "CREATE INDEX runs_status ON runs (status)",
            "CREATE TABLE results (run_id TEXT NOT NULL, task_id TEXT NOT NULL,"
            " body TEXT NOT NULL, PRIMARY KEY (run_id, task_id))",
        ],
    ),
]

MIGRATIONS.append(
    (
        3,
        "the owner of each run (a fingerprint of the API key that created it)",
        [
            "ALTER TABLE runs ADD COLUMN owner TEXT",
            "CREATE INDEX runs_owner ON runs (owner, created)",
        ],
    )
)

LATEST = MIGRATIONS[-1][0]


def migrate(db: Database, conn: Any) -> list[int]:
    """Apply the migrations `conn`'s database lacks; returns the versions applied."""
    applied: list[int] = []
    with db.transaction(conn):
        db.lock_schema(conn)
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
            f" applied {db.real} NOT NULL, description TEXT NOT NULL)"
        )
        done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}
        for version, description, statements in MIGRATIONS:
            if version in done:
                continue
            for sql in statements:
                conn.execute(sql.format(real=db.real))
            conn.execute(
                db.q(
                    "INSERT INTO schema_migrations (version, applied, description) VALUES (?,?,?)"
                ),
                (version, time.time(), description),
            )
            applied.append(version)
    return applied
