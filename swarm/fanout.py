"""Fan-out: one orchestrator turn's tasks run concurrently, bounded, results in call order."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from swarm import log_context, metrics
from swarm.engine import Usage
from swarm.errors import SwarmError
from swarm.events import EventType
from swarm.ledger import TaskStatus
from swarm.protocol_tools import TaskSpec
from swarm.run import Run
from swarm.subagent import TaskResult, run_subagent

log = logging.getLogger("kimi_swarm.swarm")


async def fan_out(run: Run, tasks: list[tuple[str, TaskSpec]]) -> list[TaskResult]:
    """Run every task (queueing beyond `max_concurrent`, never rejecting); call order kept."""
    results: list[TaskResult | None] = [None] * len(tasks)
    for task_id, spec in tasks:
        run.log.emit(EventType.TASK_QUEUED, agent=spec.agent, task=task_id, task_text=spec.task)
    async with asyncio.TaskGroup() as tg:
        for i, (task_id, spec) in enumerate(tasks):
            tg.create_task(_slot(run, results, i, task_id, spec))
    if run.store is not None:  # the stage's results are durable before the orchestrator goes on
        try:
            await run.store.flush()
        except Exception:  # the run goes on; a resume would re-run what was not kept
            log.exception("could not keep the results of a stage of %s", run.run_id)
    return [r for r in results if r is not None]


async def _slot(
    run: Run, results: list[TaskResult | None], i: int, task_id: str, spec: TaskSpec
) -> None:
    log_context.bind(agent=spec.agent, task=task_id)  # this slot is the task's own
    queued = run.semaphore.locked()  # counted as queued only while it really waits
    if queued:
        metrics.QUEUE_DEPTH.inc()
    result = TaskResult(task_id, spec.agent, TaskStatus.CANCELLED, reason="run cancelled")
    try:
        async with run.semaphore:
            if queued:
                metrics.QUEUE_DEPTH.dec()
                queued = False
            metrics.ACTIVE_SUBAGENTS.inc()
            metrics.SUBAGENTS_SPAWNED.inc()
            run.log.emit(EventType.TASK_STARTED, agent=spec.agent, task=task_id)
            try:
                with run.trace.agent(task_id, spec.agent, spec.task) as span:
                    result = await _bounded(run, task_id, spec)
                    span.finish(str(result.status), result.reason, _usage(run, task_id))
                _keep(run, result)
            finally:
                metrics.ACTIVE_SUBAGENTS.dec()
    finally:
        if queued:
            metrics.QUEUE_DEPTH.dec()
        results[i] = result
        _finish(run, result)


async def _bounded(run: Run, task_id: str, spec: TaskSpec) -> TaskResult:
    """One task under its deadline; any failure inside it is a result, never a crash.

    Whatever raises in a task (the engine after its retries, the transport, a tool, a bug of
    ours) ends that task as `failed` with the reason; its siblings and the run go on.
    Only cancellation (the run's, or the client's) passes through.
    """
    loop = asyncio.get_running_loop()
    limits = [run.deadline]
    if run.options.subagent_timeout_s is not None:
        limits.append(loop.time() + run.options.subagent_timeout_s)
    deadline = min((d for d in limits if d is not None), default=None)
    timer = asyncio.timeout_at(deadline)
    try:
        async with timer:
            return await run_subagent(run, task_id, spec)
    except TimeoutError as exc:
        if timer.expired():
            return _cut(run, task_id, spec, TaskStatus.TIMEOUT, "time limit reached")
        return _cut(run, task_id, spec, TaskStatus.FAILED, _why(exc))
    except Exception as exc:
        if not isinstance(exc, SwarmError):
            log.warning("task %s of %s failed: %s", task_id, run.run_id, _why(exc), exc_info=exc)
        return _cut(run, task_id, spec, TaskStatus.FAILED, _why(exc))


def _why(exc: BaseException) -> str:
    """`Type: message` (the first of a group), short enough for the orchestrator's context."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = f"{type(exc).__name__}: {exc}".rstrip(": ")
    return text if len(text) <= 300 else text[:297] + "..."


def _cut(run: Run, task_id: str, spec: TaskSpec, status: TaskStatus, why: str) -> TaskResult:
    stats = run.ledger.agents.get(task_id)
    return TaskResult(task_id, spec.agent, status, "", stats.steps if stats else 0, why)


def _keep(run: Run, result: TaskResult) -> None:
    """Queue a finished task's result for the store (a resumed stage skips it). The writer
    commits in queue order, so it is stored no later than the task's `task.completed` event
    that follows: a follower never hears of a task whose result a resume could not find.
    Not awaited per task (a round trip to the writer thread per task cost more than the
    task's own accounting); `fan_out` awaits the stage's writes once."""
    if run.store is None:
        return
    stats = run.ledger.agents.get(result.task_id)
    usage = stats.usage if stats else Usage()
    body = {
        **result.to_dict(),
        "usage": [usage.prompt_tokens, usage.completion_tokens],
    }
    try:
        run.store.put_result(run.run_id, result.task_id, body)
    except Exception:  # the run goes on; a resume would re-run this task
        log.exception("could not keep the result of task %s of %s", result.task_id, run.run_id)


def _finish(run: Run, result: TaskResult) -> None:
    stats = run.ledger.agent(result.task_id, result.agent, result.task_id)
    stats.status = str(result.status)
    if result.status is TaskStatus.FAILED:
        metrics.SUBAGENTS_FAILED.inc()
    elif result.status is TaskStatus.TIMEOUT:
        metrics.SUBAGENTS_TIMED_OUT.inc()
    with contextlib.suppress(Exception):  # tracing never breaks the run
        run.log.emit(
            EventType.TASK_COMPLETED,
            agent=result.agent,
            task=result.task_id,
            status=str(result.status),
            steps=result.steps,
            reason=result.reason,
            answer=result.answer[:2000],
        )


def _usage(run: Run, task_id: str) -> Usage | None:
    stats = run.ledger.agents.get(task_id)
    return stats.usage if stats else None
