"""The live-run registry the server calls: options, run (a stream of outputs), cancel, follow."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from opentelemetry.context import Context

from swarm import log_context
from swarm.admission import Admission
from swarm.bus import cancel_topic
from swarm.call_options import call_options
from swarm.engine import ChatRequest, Engine
from swarm.errors import RunNotFound
from swarm.events import TERMINAL, EventLog
from swarm.follow import follow
from swarm.gate import FairGate
from swarm.ledger import Ledger, RunStatus
from swarm.limits import SwarmLimits, SwarmOptions, parse_options
from swarm.orchestrator import OrchestratorState, initial_messages
from swarm.outputs import Emit, OutputStream, SwarmOutput
from swarm.protocol_tools import ORCHESTRATOR
from swarm.resume import restore
from swarm.resume import resume_id as find_resume_id
from swarm.retry import RetryPolicy
from swarm.run import Attacher, Run, media_parts
from swarm.session import RunSession
from swarm.store import RunStore
from swarm.telemetry import RunTrace, TraceConfig
from tools.base import Json, ToolRegistry

log = logging.getLogger("kimi_swarm.swarm")
# How long a cancel on one replica waits for the driving replica to confirm.
CANCEL_WAIT_S = 5.0


class SwarmService:
    def __init__(
        self,
        engine: Engine,
        tools: ToolRegistry,
        store: RunStore,
        limits: SwarmLimits,
        *,
        attacher: Attacher | None = None,
        trace: TraceConfig | None = None,
    ) -> None:
        self.engine = engine
        self.trace = trace or TraceConfig()
        self.attacher = attacher
        self.tools = tools
        self.store = store
        self.limits = limits
        self._live: dict[str, tuple[RunSession, asyncio.Task[Any]]] = {}
        # Server-wide: engine calls in flight (shared fairly by run) and runs admitted.
        self.gate = FairGate(limits.max_engine_calls)
        self.admission = Admission(limits.max_runs, limits.max_queued_runs)

    def options(self, raw: dict[str, Any] | None) -> SwarmOptions:
        return parse_options(raw, self.limits, self.engine.info)

    def run(
        self,
        request: ChatRequest,
        options: SwarmOptions,
        *,
        parent: Context | None = None,
        owner: str | None = None,
    ) -> OutputStream[SwarmOutput]:
        """Outputs of one request: `run.started` first, the final turn, usage, summary last.

        `parent` is the trace context the run's spans nest under (the caller's request span);
        `owner` the fingerprint of the caller's API key (only its runs can be resumed).
        """
        return OutputStream(
            lambda emit: self._drive(request, options, emit, parent, owner), name="swarm-run"
        )

    async def _drive(
        self,
        request: ChatRequest,
        options: SwarmOptions,
        emit: Emit[SwarmOutput],
        parent: Context | None,
        owner: str | None,
    ) -> None:
        session = await self._open(request, options, emit, owner)  # a bad resume fails first
        async with self.admission.enter():
            await self._drive_admitted(session, parent)

    async def _drive_admitted(self, session: RunSession, parent: Context | None) -> None:
        run_id = session.run.run_id
        session.run.trace = RunTrace(self.trace, run_id, self.engine.info.name, parent)
        log_context.bind(run_id, ORCHESTRATOR)  # this task is the run's own
        log.info("swarm run %s (resumed: %s)", run_id, session.resumed)
        task = asyncio.current_task()
        assert task is not None
        self._live[run_id] = (session, task)
        # A cancel asked on any replica reaches the one driving the run.
        cancels = self.store.bus.listen(cancel_topic(run_id), lambda _: self._cancel_here(run_id))
        try:
            with (
                self.store.driving(run_id),
                cancels,
                session.run.trace.agent(ORCHESTRATOR, ORCHESTRATOR) as span,
            ):
                await session.drive()
                span.finish(str(session.status), usage=session.run.ledger.usage())
            log.info("swarm run ended: %s", session.status)
        finally:
            self._live.pop(run_id, None)
            await self._settle()

    async def _settle(self) -> None:
        """The run's last writes committed (a reader right after sees its end); old runs pruned
        by the writer after that (the response does not wait for the scan)."""
        try:
            await self.store.flush()
            self.store.prune_later()
        except Exception:  # the run's outcome stands; the writer logged what failed
            log.exception("run store: could not settle after a run")

    def _cancel_here(self, run_id: str) -> None:
        live = self._live.get(run_id)
        if live is not None:
            live[0].cancel_requested = True
            live[1].cancel()  # the run's producer task: it ends the run with its tail outputs

    async def cancel(self, run_id: str) -> bool:
        """Stop a running run (every sub-agent, every engine request) on whichever replica
        drives it; False if it is not running."""
        live = self._live.get(run_id)
        if live is not None:
            self._cancel_here(run_id)
            await asyncio.wait({live[1]})
            return True
        record = await self.store.get(run_id)
        if record is None or record["status"] != RunStatus.RUNNING:
            return False
        last = await self.store.last_sequence(run_id)
        ended: AsyncGenerator[Json, None] = follow(self.store, run_id, last)
        await self.store.request_cancel(run_id)
        try:
            async with asyncio.timeout(CANCEL_WAIT_S):
                async for event in ended:
                    if event["type"] in TERMINAL:
                        return bool(event["data"].get("status") == RunStatus.CANCELLED)
        except TimeoutError:
            pass
        finally:
            await ended.aclose()
        return False

    def follow(self, run_id: str, after: int = -1) -> AsyncIterator[Json]:
        """A run's events after sequence `after`: stored ones, then live ones until it ends."""
        return follow(self.store, run_id, after)

    async def _open(
        self,
        request: ChatRequest,
        options: SwarmOptions,
        emit: Emit[SwarmOutput],
        owner: str | None = None,
    ) -> RunSession:
        resume_id = options.run_id or find_resume_id(request.messages)
        if resume_id is not None:
            record = await self.store.get(resume_id)
            if record is None or record.get("owner") != owner:  # another key's run: not found
                raise RunNotFound(f"no swarm run {resume_id!r}", param="swarm.run_id")
            session = await self._resume(resume_id, request, options, emit)
            session.run.owner = owner
            return session
        run = self._new_run(
            f"run_{uuid.uuid4().hex[:24]}", request, options, emit, Ledger(), start=0
        )
        run.owner = owner
        run.ledger.agent(ORCHESTRATOR, ORCHESTRATOR)
        required = run.required_mode
        state = OrchestratorState(
            initial_messages(request.messages, required), list(request.tools or [])
        )
        return RunSession(run, state, self.store, emit, model=self.engine.info.name)

    def _new_run(
        self,
        run_id: str,
        request: ChatRequest,
        options: SwarmOptions,
        emit: Emit[SwarmOutput],
        ledger: Ledger,
        *,
        start: int,
    ) -> Run:
        log = EventLog(run_id, emit, self.store.put_events, start=start)
        return Run(
            run_id=run_id,
            engine=self.engine,
            tools=self.tools,
            options=options,
            log=log,
            ledger=ledger,
            calls=call_options(
                request,
                temperature=options.temperature,
                top_p=options.top_p,
                max_step_tokens=options.max_step_tokens,
                answer_max_tokens=options.answer_max_tokens,
            ),
            media=media_parts(request.messages),
            messages=request.messages,
            attacher=self.attacher,
            semaphore=asyncio.Semaphore(options.max_concurrent),
            retry=RetryPolicy(self.limits.engine_retries, self.limits.engine_retry_backoff_s),
            store=self.store,
            gate=self.gate,
        )

    async def _resume(
        self, run_id: str, request: ChatRequest, options: SwarmOptions, emit: Emit[SwarmOutput]
    ) -> RunSession:
        """Continue a run paused on client tools, or one whose replica died (any replica)."""
        saved = await restore(self.store, run_id, request.messages)
        run = self._new_run(run_id, request, options, emit, saved.ledger, start=saved.next_sequence)
        run.agents = saved.agents
        run.tasks_started = saved.tasks_started
        return RunSession(
            run,
            saved.state,
            self.store,
            emit,
            model=self.engine.info.name,
            resumed=True,
            wall_base=saved.wall_base,
            done=saved.done,
        )
