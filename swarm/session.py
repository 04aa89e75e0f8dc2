"""One request's share of a run: drive the orchestrator, emit outputs, persist, account."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict

from swarm import metrics
from swarm.answer import answer_turn
from swarm.engine import Delta, ToolCallDelta, Usage
from swarm.errors import RunTimedOut
from swarm.events import EventType
from swarm.ledger import RunStatus, RunSummary
from swarm.orchestrator import AwaitClient, Finish, Orchestrator, OrchestratorState
from swarm.outputs import Emit, SwarmOutput
from swarm.run import Run
from swarm.store import RunStore
from swarm.subagent import TaskResult
from tools.base import Json

log = logging.getLogger("kimi_swarm.swarm")


class RunSession:
    def __init__(
        self,
        run: Run,
        state: OrchestratorState,
        store: RunStore,
        emit: Emit[SwarmOutput],
        *,
        model: str,
        resumed: bool = False,
        wall_base: float = 0.0,
        done: dict[str, TaskResult] | None = None,
    ) -> None:
        self.run = run
        self.state = state
        self.store = store
        self.emit = emit
        self.model = model
        self.resumed = resumed
        self.wall_base = wall_base
        self.done = done or {}
        self.usage_base = run.ledger.usage()
        self.status = RunStatus.RUNNING
        self.cancel_requested = False
        self.output = ""
        self._t0 = time.perf_counter()
        # The run's options as its record keeps them (fixed for the request: made once).
        self._options = {
            k: str(v) if hasattr(v, "value") else v for k, v in asdict(run.options).items()
        }

    @property
    def wall_time_s(self) -> float:
        return self.wall_base + time.perf_counter() - self._t0

    def summary(self, agents: list[Json] | None = None) -> RunSummary:
        return RunSummary.of(
            self.run.run_id, self.status, self.run.ledger, self.wall_time_s, agents
        )

    def checkpoint(self) -> None:
        """Queue the record and resumable state for the store's writer (events went as emitted)."""
        ledger = self.run.ledger
        agents = [a.to_dict() for a in ledger.agents.values()]  # once for record and state
        record = {**self.summary(agents).to_dict(), "model": self.model, "output": self.output}
        record["owner"] = self.run.owner
        record["options"] = self._options
        orchestrator = self.state.to_dict()
        orchestrator["messages"] = list(self.state.messages)
        state = {
            "orchestrator": orchestrator,
            "agents": {n: [a.system_prompt, list(a.tools)] for n, a in self.run.agents.items()},
            "ledger": ledger.to_dict(agents),
            "tasks_started": self.run.tasks_started,
            "wall_time_s": self.wall_time_s,
        }
        try:
            self.store.put_run(self.run.run_id, str(self.status), record, state)
        except Exception as exc:  # a store outage costs the record, never the run
            metrics.STORE_ERRORS.inc()
            log.error("run %s: storing the record failed: %s", self.run.run_id, exc)

    async def drive(self) -> None:
        run = self.run
        if run.options.timeout_s is not None:
            run.deadline = asyncio.get_running_loop().time() + run.options.timeout_s
        # The one timeout around the run: the deadline plus the answer's grace period.
        hard = None if run.deadline is None else run.deadline + run.options.answer_grace_s
        timer = asyncio.timeout_at(hard)
        try:
            self.checkpoint()
            await self.store.flush()  # readable from any replica before its id goes out
            run.log.emit(
                EventType.RUN_STARTED,
                model=self.model,
                resumed=self.resumed,
                tool_mode=str(run.options.tool_mode),
            )
            async with timer:
                outcome = await Orchestrator(run, self.state, self.checkpoint).loop(self.done)
                tail = await self._answer(outcome)
        except TimeoutError as exc:
            if not timer.expired():
                self._end(RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
                raise
            why = f"wall-clock limit of {run.options.timeout_s:g} s reached (no answer in time)"
            self._end(RunStatus.FAILED, why)
            raise RunTimedOut(why) from exc
        except asyncio.CancelledError:
            self._end(RunStatus.CANCELLED, "run cancelled")
            if not self.cancel_requested:
                raise
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            self._emit_tail([Delta(finish_reason="stop")])
            return
        except Exception as exc:
            self._end(RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
            raise
        self._emit_tail(tail)

    async def _answer(self, outcome: Finish | AwaitClient) -> list[Delta]:
        """The final turn's deltas still to emit (an answer turn streams its own as it runs)."""
        if isinstance(outcome, Finish):
            turn = outcome.answered
            tail: list[Delta] = []
            if turn is None:
                turn = await answer_turn(self.run, self.state.messages, outcome.why, self.emit)
                self.run.ledger.close_stage([])
            else:
                tail = [Delta(content=p) for p in turn.pieces]
            if turn.finish_reason is None or outcome.answered is not None:
                tail.append(Delta(finish_reason=turn.finish_reason or "stop"))
            self.state.messages.append(turn.assistant_message())
            self.output = turn.content
            self.status = RunStatus.COMPLETED
            return tail
        self.status = RunStatus.REQUIRES_ACTION
        frags = [ToolCallDelta(i, c.id, c.name, c.arguments) for i, c in enumerate(outcome.calls)]
        return [Delta(tool_calls=frags), Delta(finish_reason="tool_calls")]

    def _emit_tail(self, deltas: list[Delta]) -> None:
        """Final turn, `run.completed`, aggregate usage, summary; then persist."""
        for delta in deltas:
            self.emit(delta)
        s = self.summary()
        if self.status is not RunStatus.CANCELLED:
            self.run.log.emit(
                EventType.RUN_COMPLETED,
                status=str(self.status),
                critical_steps=s.critical_steps,
                total_steps=s.total_steps,
            )
            metrics.RUNS.labels(str(self.status)).inc()
            metrics.CRITICAL_STEPS.observe(s.critical_steps)
        usage = self.run.ledger.usage()
        base = self.usage_base
        self.emit(
            Usage(
                usage.prompt_tokens - base.prompt_tokens,
                usage.completion_tokens - base.completion_tokens,
            )
        )
        self.emit(s)
        self.checkpoint()

    def _end(self, status: RunStatus, why: str) -> None:
        """A run that stops abnormally: `run.failed` (status says why), persisted."""
        self.status = status
        self.run.log.emit(EventType.RUN_FAILED, status=str(status), error=why)
        metrics.RUNS.labels(str(status)).inc()
        self.checkpoint()
