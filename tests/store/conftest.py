"""A real PostgreSQL for the run-store tests: one server per session, one database per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.postgres import Postgres, start_postgres, unavailable


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    why = unavailable()
    if why is not None:
        pytest.skip(why)
    pg = start_postgres()
    yield pg
    pg.stop()


def make_database(postgres: Postgres) -> str:
    """A fresh, empty database on the session's server (dropped with the server)."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return postgres.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def pg_url(postgres: Postgres) -> str:
    return make_database(postgres)
