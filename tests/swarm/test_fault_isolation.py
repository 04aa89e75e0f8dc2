"""Fault isolation: whatever breaks inside one sub-agent task ends that task, never the run."""

from __future__ import annotations

import httpx

from swarm.engine import ChatRequest
from swarm.errors import EngineRejected, EngineUnavailable
from swarm.limits import SwarmLimits
from tests.fakes.scripted_engine import Step, call, calls, say
from tests.swarm.conftest import make_harness, task_text, tool_messages

WORKER = {"name": "w", "system_prompt": "p", "tools": []}
FAST_RETRY = SwarmLimits(engine_retry_backoff_s=0.001)


def fan(*tasks: str) -> Step:
    return calls(*[("assign_task", {"agent": "w", "task": t}) for t in tasks])


async def test_any_exception_in_one_task_fails_only_that_task() -> None:
    """An httpx.ReadTimeout, a bug of ours and an engine rejection: siblings and the run go on."""
    faults = {
        "read-timeout": httpx.ReadTimeout("read timed out"),
        "bug": KeyError("missing"),
        "rejected": EngineRejected("prompt too long"),
    }

    def worker(request: ChatRequest, turn: int) -> Step:
        task = task_text(request)
        if task in faults:
            return Step(error=faults[task])
        return say(f"answer for {task}", latency_s=0.05)  # siblings still running at the fault

    orchestrator = [call("create_subagent", WORKER), fan("a", *faults, "b"), say("run answer")]
    h = make_harness({"orchestrator": orchestrator, "w": worker}, limits=FAST_RETRY)
    out = await h.run()

    assert out.content == "run answer"
    assert out.summary.status == "completed"
    results = [m["content"] for m in tool_messages(h.engine.requests_for("orchestrator")[-1])][1:]
    assert results[0] == "answer for a" and results[-1] == "answer for b"
    assert results[1].startswith("[failed: ReadTimeout: read timed out]")
    assert results[2].startswith("[failed: KeyError: 'missing']")
    assert results[3].startswith("[failed: EngineRejected: prompt too long]")
    ends = {e.task: e.data for e in out.events if e.type == "task.completed"}
    assert [ends[t]["status"] for t in ("t1", "t2", "t3", "t4", "t5")] == [
        "completed", "failed", "failed", "failed", "completed",
    ]  # fmt: skip
    assert "ReadTimeout" in ends["t2"]["reason"]
    assert "run.failed" not in out.types()


async def test_transient_engine_errors_are_retried_inside_the_step() -> None:
    attempts: list[int] = []

    def flaky(request: ChatRequest, turn: int) -> Step:
        attempts.append(turn)
        if len(attempts) <= 2:  # connect error, then a cut stream; the third attempt answers
            return Step(error=EngineUnavailable("upstream unreachable"))
        return say("recovered answer")

    orchestrator = [call("create_subagent", WORKER), fan("x"), say("done")]
    h = make_harness({"orchestrator": orchestrator, "w": flaky}, limits=FAST_RETRY)
    out = await h.run()

    assert attempts == [0, 0, 0]  # the same step, three times
    (done,) = [e for e in out.events if e.type == "task.completed"]
    assert done.data["status"] == "completed" and done.data["answer"] == "recovered answer"
    (w_stats,) = [a for a in out.summary.agents if a["name"] == "w"]
    assert w_stats["steps"] == 1  # retries are not extra steps


async def test_retries_run_out_then_the_task_fails_with_the_reason() -> None:
    def down(request: ChatRequest, turn: int) -> Step:
        return Step(error=EngineUnavailable("HTTP 503"))

    orchestrator = [call("create_subagent", WORKER), fan("x"), say("done anyway")]
    limits = SwarmLimits(engine_retries=3, engine_retry_backoff_s=0.001)
    h = make_harness({"orchestrator": orchestrator, "w": down}, limits=limits)
    out = await h.run()

    assert len(h.engine.requests_for("w")) == 4  # 1 + 3 retries
    (done,) = [e for e in out.events if e.type == "task.completed"]
    assert done.data["status"] == "failed"
    assert done.data["reason"] == "EngineUnavailable: HTTP 503"
    assert out.content == "done anyway"


async def test_non_transient_errors_are_not_retried() -> None:
    orchestrator = [call("create_subagent", WORKER), fan("x"), say("ok")]
    worker = [Step(error=ValueError("our bug"))]
    h = make_harness({"orchestrator": orchestrator, "w": worker}, limits=FAST_RETRY)
    await h.run()
    assert len(h.engine.requests_for("w")) == 1
