"""With API keys on, a run belongs to the key that created it: other keys get 404 everywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from server.app import create_app
from server.context import AppContext, ServerSettings
from swarm.engine import Engine, ModelInfo
from swarm.limits import SwarmLimits
from swarm.service import SwarmService
from swarm.store import open_store
from tests.fakes.scripted_engine import ScriptedEngine, call, say
from tools.base import ToolRegistry

ORCH = [call("create_subagent", {"name": "w", "system_prompt": "p"}), say("final answer")]
ALICE = {"Authorization": "Bearer alice-key"}
BOB = {"Authorization": "Bearer bob-key"}


@asynccontextmanager
async def keyed_client(path: str) -> AsyncIterator[httpx.AsyncClient]:
    engine = ScriptedEngine({"orchestrator": ORCH}, info=ModelInfo("kimi-fake"))

    @asynccontextmanager
    async def serving() -> AsyncIterator[Engine]:
        yield engine

    @asynccontextmanager
    async def attach(ctx: AppContext) -> AsyncIterator[None]:
        store = open_store(path)
        ctx.swarm = SwarmService(engine, ToolRegistry(), store, SwarmLimits())
        yield
        ctx.swarm = None
        store.close()

    settings = ServerSettings(served_name="fake", api_keys=("alice-key", "bob-key"))
    app = create_app(AppContext(settings), serving, attach)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_only_the_creating_key_sees_its_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "runs.sqlite3"
    body = {"model": "fake-swarm", "messages": [{"role": "user", "content": "q"}]}
    async with keyed_client(str(db)) as client:
        made = await client.post("/v1/chat/completions", json=body, headers=ALICE)
        assert made.status_code == 200, made.text
        run_id = made.headers["x-swarm-run-id"]
        bobs = await client.post("/v1/chat/completions", json=body, headers=BOB)
        bob_run = bobs.headers["x-swarm-run-id"]

        listed = (await client.get("/v1/swarm/runs", headers=ALICE)).json()["data"]
        assert [r["run_id"] for r in listed] == [run_id]
        assert [
            r["run_id"] for r in (await client.get("/v1/swarm/runs", headers=BOB)).json()["data"]
        ] == [bob_run]
        record = await client.get(f"/v1/swarm/runs/{run_id}", headers=ALICE)
        assert record.status_code == 200 and "owner" not in record.json()
        assert (
            await client.get(f"/v1/swarm/runs/{run_id}/events", headers=ALICE)
        ).status_code == 200

        for method, path in [
            ("GET", f"/v1/swarm/runs/{run_id}"),
            ("GET", f"/v1/swarm/runs/{run_id}/events"),
            ("POST", f"/v1/swarm/runs/{run_id}/cancel"),
        ]:
            other = await client.request(method, path, headers=BOB)
            assert other.status_code == 404, (method, path)
            assert other.json()["error"]["code"] == "not_found"
        resume = {**body, "swarm": {"run_id": run_id}}
        stolen = await client.post("/v1/chat/completions", json=resume, headers=BOB)
        assert stolen.status_code == 404 and stolen.json()["error"]["param"] == "swarm.run_id"

    stored = db.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("runs.sqlite3-*"))
    assert b"alice-key" not in stored and b"bob-key" not in stored  # fingerprints only
