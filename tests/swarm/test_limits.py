"""Limits on by default and enforced mid-call: deadline, token budget, engine-call cap, admission."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.boot.swarm import add_swarm_args, limits_from_args
from server.context import AppContext, ServerSettings
from swarm.engine import ChatRequest, Engine, ModelInfo
from swarm.errors import RunTimedOut
from swarm.gate import FairGate
from swarm.limits import SwarmLimits, SwarmOptions
from swarm.service import SwarmService
from swarm.store import open_store
from tests.fakes.scripted_engine import ScriptedEngine, Step, call, calls, say
from tests.swarm.conftest import Harness, make_harness
from tools.base import ToolRegistry

WORKER = {"name": "w", "system_prompt": "p", "tools": []}


def fan(n: int) -> Step:
    return calls(*[("assign_task", {"agent": "w", "task": f"t{i}"}) for i in range(n)])


def test_limits_are_on_by_default_and_flags_can_lift_them() -> None:
    d = SwarmLimits()
    assert d.timeout_s and d.subagent_timeout_s and d.token_budget  # none is unlimited
    assert d.max_engine_calls and d.max_runs and d.max_queued_runs
    parser = argparse.ArgumentParser()
    add_swarm_args(parser)
    args = parser.parse_args(
        ["--swarm-timeout-s", "none", "--swarm-token-budget", "500", "--swarm-max-runs", "3"]
    )
    limits = limits_from_args(args)
    assert limits.timeout_s is None and limits.token_budget == 500 and limits.max_runs == 3
    assert limits.subagent_timeout_s == d.subagent_timeout_s


async def test_the_deadline_cancels_the_call_in_flight_then_the_orchestrator_answers() -> None:
    orchestrator = [Step(content="thinking", hang=True), say("answer within the grace")]
    h = make_harness({"orchestrator": orchestrator})
    async with asyncio.timeout(10):  # today's code waits on the hung call forever
        out = await h.run(timeout_s=0.2)
    assert h.engine.aborted == [f"{out.summary.run_id}/orchestrator/0/0"]
    last = h.engine.requests_for("orchestrator")[-1]
    assert last.tools is None and "wall-clock limit" in last.messages[-1]["content"]
    assert out.content == "answer within the grace"
    assert out.summary.status == "completed"


async def test_a_run_past_its_deadline_and_grace_fails_with_one_clean_event() -> None:
    orchestrator = [call("create_subagent", WORKER), fan(2), Step(content="x", hang=True)]
    limits = SwarmLimits(answer_grace_s=0.2)
    h = make_harness(
        {"orchestrator": orchestrator, "w": [Step(content="y", hang=True)]}, limits=limits
    )
    out_items: list[object] = []
    with pytest.raises(RunTimedOut, match=r"wall-clock limit of 0\.3 s"):
        async with asyncio.timeout(10):
            async for item in h.service.run(*_request(h, timeout_s=0.3)):
                out_items.append(item)
    types = [str(getattr(i, "type", "")) for i in out_items]
    assert types.count("run.failed") == 1 and "run.completed" not in types
    assert h.engine.active == 0  # every engine call was aborted
    assert len(h.engine.aborted) == 3  # the two tasks, then the forced answer past the grace


def _request(h: Harness, **raw: Any) -> tuple[ChatRequest, SwarmOptions]:
    return ChatRequest(messages=[{"role": "user", "content": "q"}]), h.opts(**raw)


async def test_the_remaining_token_budget_caps_each_calls_max_tokens() -> None:
    orchestrator = [call("create_subagent", WORKER), fan(1), say("end")]
    h = make_harness({"orchestrator": orchestrator, "w": [say("long enough answer")]})
    await h.run(token_budget=100)  # each scripted call uses 15 tokens
    caps = [r.sampling.max_tokens for r in h.engine.requests]
    assert caps == [100, 85, 70, 55]
    h = make_harness({"orchestrator": orchestrator, "w": [say("long enough answer")]})
    await h.run()  # the default budget (2M) is beyond any context: no cap is sent
    assert {r.sampling.max_tokens for r in h.engine.requests} == {None}


async def test_engine_calls_are_capped_server_wide_across_runs() -> None:
    orchestrator = [call("create_subagent", WORKER), fan(6), say("end")]
    limits = SwarmLimits(max_engine_calls=3)
    h = make_harness({"orchestrator": orchestrator, "w": [say("a long enough answer")]},
                     latency_s=0.02, limits=limits)  # fmt: skip
    outs = await asyncio.gather(*(h.run() for _ in range(3)))
    assert all(o.summary.status == "completed" for o in outs)
    assert h.engine.peak_active == 3  # 18 sub-agent calls wanted to overlap
    assert h.service.gate.busy == 0 and h.service.gate.waiting == 0


async def test_the_gate_serves_runs_in_rotation_and_survives_cancelled_waiters() -> None:
    gate = FairGate(1)
    order: list[str] = []
    release = asyncio.Event()

    async def use(owner: str) -> None:  # as `Run._call` holds a slot
        if not gate.take():
            await gate.acquire(owner)
        try:
            order.append(owner)
            await release.wait()
        finally:
            gate.release()

    async with asyncio.TaskGroup() as tg:
        holder = tg.create_task(use("a"))
        await asyncio.sleep(0)
        busy = [tg.create_task(use("a")) for _ in range(5)]
        await asyncio.sleep(0)
        late = tg.create_task(use("b"))
        await asyncio.sleep(0)
        busy[0].cancel()  # a waiter that gives up leaves no slot behind
        release.set()
    assert holder.done() and late.done()
    assert order[:3] == ["a", "a", "b"]  # b waited behind one call of a, not five
    assert gate.busy == 0 and gate.waiting == 0


@asynccontextmanager
async def app_client(
    engine: ScriptedEngine, limits: SwarmLimits
) -> AsyncIterator[httpx.AsyncClient]:
    @asynccontextmanager
    async def serving() -> AsyncIterator[Engine]:
        yield engine

    @asynccontextmanager
    async def attach(ctx: AppContext) -> AsyncIterator[None]:
        store = open_store(":memory:")
        ctx.swarm = SwarmService(engine, ToolRegistry(), store, limits)
        yield
        ctx.swarm = None
        store.close()

    app = create_app(AppContext(ServerSettings(served_name="fake")), serving, attach)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_runs_beyond_the_queue_get_429_with_retry_after() -> None:
    engine = ScriptedEngine({"orchestrator": [say("slow answer", latency_s=0.3)]},
                            info=ModelInfo("kimi-fake"))  # fmt: skip
    body = {"model": "fake-swarm", "messages": [{"role": "user", "content": "q"}]}
    async with app_client(engine, SwarmLimits(max_runs=1, max_queued_runs=1)) as client:
        replies = await asyncio.gather(
            *(client.post("/v1/chat/completions", json=body) for _ in range(4))
        )
    codes = sorted(r.status_code for r in replies)
    assert codes == [200, 200, 429, 429]  # one running, one queued, the rest refused
    refused = next(r for r in replies if r.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1
    error = refused.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == "rate_limit_exceeded"
    assert engine.peak_active == 1
