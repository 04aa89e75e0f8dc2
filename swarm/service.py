"""The live-run registry the server calls: options, run (a stream of outputs), cancel, follow."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

from swarm.engine import ChatRequest, Engine
from swarm.events import EventLog
from swarm.ledger import Ledger
from swarm.limits import SwarmLimits, SwarmOptions, parse_options
from swarm.orchestrator import OrchestratorState, initial_messages
from swarm.protocol_tools import ORCHESTRATOR
from swarm.resume import restore
from swarm.resume import resume_id as find_resume_id
from swarm.run import Attacher, Run, media_parts
from swarm.session import RunSession, SwarmOutput
from swarm.store import RunStore
from tools.base import Json, ToolRegistry

_END = object()


class SwarmService:
    def __init__(
        self,
        engine: Engine,
        tools: ToolRegistry,
        store: RunStore,
        limits: SwarmLimits,
        *,
        attacher: Attacher | None = None,
    ) -> None:
        self.engine = engine
        self.attacher = attacher
        self.tools = tools
        self.store = store
        self.limits = limits
        self._live: dict[str, tuple[RunSession, asyncio.Task[None]]] = {}

    def options(self, raw: dict[str, Any] | None) -> SwarmOptions:
        return parse_options(raw, self.limits, self.engine.info)

    async def run(self, request: ChatRequest, options: SwarmOptions) -> AsyncIterator[SwarmOutput]:
        """Outputs of one request: `run.started` first, the final turn, usage, summary last."""
        queue: asyncio.Queue[Any] = asyncio.Queue()
        session = self._open(request, options, queue)
        run_id = session.run.run_id
        task = asyncio.create_task(self._drive(session, queue), name=f"swarm-{run_id}")
        self._live[run_id] = (session, task)
        try:
            while (item := await queue.get()) is not _END:
                yield item
                # Drain what is already there without a wake-up per item (a fan-out emits bursts).
                while not queue.empty() and (item := queue.get_nowait()) is not _END:
                    yield item
                if item is _END:
                    break
            await task  # re-raise the run's failure, if any
        finally:
            if not task.done():
                task.cancel()
            await asyncio.wait({task})
            if not task.cancelled():
                task.exception()  # retrieved here; raised above when it mattered
            self._live.pop(run_id, None)
            self.store.prune()

    async def _drive(self, session: RunSession, queue: asyncio.Queue[Any]) -> None:
        try:
            await session.drive()
        finally:
            queue.put_nowait(_END)

    async def cancel(self, run_id: str) -> bool:
        """Stop a live run (every sub-agent, every engine request); False if not running."""
        live = self._live.get(run_id)
        if live is None:
            return False
        session, task = live
        session.cancel_requested = True
        task.cancel()
        await asyncio.wait({task})
        return True

    async def follow(self, run_id: str, after: int = -1) -> AsyncIterator[Json]:
        """A run's events after sequence `after`: stored ones, then live ones until it ends."""
        for event in self.store.events(run_id, after=after):
            after = event["sequence_number"]
            yield event
        live = self._live.get(run_id)
        if live is not None:
            async for ev in live[0].run.log.follow(after):
                yield ev.to_dict()

    def is_live(self, run_id: str) -> bool:
        return run_id in self._live

    def _open(
        self, request: ChatRequest, options: SwarmOptions, queue: asyncio.Queue[Any]
    ) -> RunSession:
        resume_id = options.run_id or find_resume_id(request.messages)
        if resume_id is not None:
            return self._resume(resume_id, request, options, queue)
        run = self._new_run(
            f"run_{uuid.uuid4().hex[:24]}", request, options, queue, Ledger(), start=0
        )
        run.ledger.agent(ORCHESTRATOR, ORCHESTRATOR)
        required = run.required_mode
        state = OrchestratorState(
            initial_messages(request.messages, required), list(request.tools or [])
        )
        return RunSession(run, state, self.store, queue, model=self.engine.info.name)

    def _new_run(
        self,
        run_id: str,
        request: ChatRequest,
        options: SwarmOptions,
        queue: asyncio.Queue[Any],
        ledger: Ledger,
        *,
        start: int,
    ) -> Run:
        log = EventLog(run_id, queue.put_nowait, start=start)
        return Run(
            run_id=run_id,
            engine=self.engine,
            tools=self.tools,
            options=options,
            log=log,
            ledger=ledger,
            sampling=request.sampling,
            media=media_parts(request.messages),
            messages=request.messages,
            attacher=self.attacher,
            semaphore=asyncio.Semaphore(options.max_concurrent),
        )

    def _resume(
        self, run_id: str, request: ChatRequest, options: SwarmOptions, queue: asyncio.Queue[Any]
    ) -> RunSession:
        """Continue a run paused on client tools with the results this request carries."""
        saved = restore(self.store, run_id, request.messages, live=run_id in self._live)
        run = self._new_run(
            run_id, request, options, queue, saved.ledger, start=saved.next_sequence
        )
        run.agents = saved.agents
        run.tasks_started = saved.tasks_started
        return RunSession(
            run,
            saved.state,
            self.store,
            queue,
            model=self.engine.info.name,
            resumed=True,
            wall_base=saved.wall_base,
        )
