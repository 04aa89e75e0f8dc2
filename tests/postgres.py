"""A real, throw-away PostgreSQL server for tests: initdb into a temp dir, run on 127.0.0.1.

Uses Debian's `postgresql` package (`make test` installs it). PostgreSQL refuses to run as
root, so as root the cluster is owned by and run as the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port


def pg_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin dir (Debian's layout, or initdb on PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def unavailable() -> str | None:
    """Why a PostgreSQL cannot be started here, or None."""
    if pg_bindir() is None:
        return "PostgreSQL is not installed (Debian: apt-get install postgresql; `make test` does)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run PostgreSQL as"
    return None


@dataclass
class Postgres:
    root: Path
    port: int
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def start_postgres() -> Postgres:
    bindir = pg_bindir()
    assert bindir is not None, unavailable()
    root = Path(tempfile.mkdtemp(prefix="kimi-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    pg = Postgres(root, free_port(), bindir)
    data = str(root / "data")
    pg._run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
    opts = f"-p {pg.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    log = str(root / "postgres.log")
    pg._run("pg_ctl", "-D", data, "-o", opts, "-l", log, "-w", "-t", "60", "start")
    _wait_ready(pg)
    return pg


def _wait_ready(pg: Postgres) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(pg.url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _version(path: str) -> tuple[int, ...]:
    part = Path(path).parent.parent.name
    return tuple(int(x) for x in part.split(".") if x.isdigit())
