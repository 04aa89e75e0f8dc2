"""The one output stream: what a chat request produces, and the single queue that carries it.

A request's outputs form a closed union, `SwarmOutput`: engine `Delta`s and `Usage`
(plain chat and a swarm's final answer turn), `SwarmEvent`s (the run's trace) and one
`RunSummary` (swarm runs end with it). `dispatch` is the only place that tells them
apart; every encoder (chunks, collected JSON, ...) implements `OutputHandler`.

`OutputStream` runs the producer in one task of its own and hands its outputs over one
queue. Why a task: producers hold task groups and timeouts that must stay bound to one
task, while the consumer (an HTTP handler, then a streaming response) may change tasks
and needs idle timeouts for heartbeats. Closing the stream cancels that task (aborting
engine work).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, assert_never

from swarm.engine import Delta, Usage
from swarm.events import SwarmEvent
from swarm.ledger import RunSummary

SwarmOutput = Delta | Usage | SwarmEvent | RunSummary
T = TypeVar("T")
R_co = TypeVar("R_co", covariant=True)
Emit = Callable[[T], None]


class OutputHandler(Protocol[R_co]):
    """One method per kind of output; `dispatch` picks it."""

    def delta(self, item: Delta) -> R_co: ...
    def usage(self, item: Usage) -> R_co: ...
    def event(self, item: SwarmEvent) -> R_co: ...
    def summary(self, item: RunSummary) -> R_co: ...


def dispatch(item: SwarmOutput, to: OutputHandler[R_co]) -> R_co:
    """Hand one output to the handler method of its kind (the one match over the union)."""
    match item:
        case Delta():
            return to.delta(item)
        case Usage():
            return to.usage(item)
        case SwarmEvent():
            return to.event(item)
        case RunSummary():
            return to.summary(item)
        case _:
            assert_never(item)


@dataclass(slots=True)
class _End:
    error: BaseException | None = None


class OutputStream(Generic[T]):
    """Outputs of `produce(emit)`, run in its own task; `emit` never blocks.

    The channel is a deque plus one waiter future: a swarm emits several outputs per model
    step, and an `asyncio.Queue` (its bookkeeping and a wake-up per item) cost more per output
    than the rest of the step's accounting. One reader, one producer task."""

    def __init__(self, produce: Callable[[Emit[T]], Awaitable[None]], *, name: str = "") -> None:
        self._items: deque[T | _End] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False
        self._task = asyncio.create_task(self._run(produce), name=name or None)

    @classmethod
    def relay(cls, source: AsyncIterator[T], *, name: str = "") -> OutputStream[T]:
        """A stream of an async iterator's items (closed in the producer's task)."""

        async def produce(emit: Emit[T]) -> None:
            try:
                async for item in source:
                    emit(item)
            finally:
                aclose = getattr(source, "aclose", None)
                if aclose is not None:
                    await aclose()

        return cls(produce, name=name)

    def _put(self, item: T | _End) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _run(self, produce: Callable[[Emit[T]], Awaitable[None]]) -> None:
        error: BaseException | None = None
        try:
            await produce(self._put)
        except Exception as exc:  # re-raised in the consumer by get()
            error = exc
        finally:
            self._put(_End(error))

    async def get(self, idle_s: float | None = None) -> T:
        """Next output; `StopAsyncIteration` at the end, `TimeoutError` when idle, or the error."""
        if self._ended:
            raise StopAsyncIteration
        if not self._items:  # the hot path skips this: no future, no timer
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(idle_s):
                    await self._waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if isinstance(item, _End):
            self._ended = True
            if item.error is not None:
                raise item.error
            raise StopAsyncIteration
        return item

    def __aiter__(self) -> OutputStream[T]:
        return self

    __anext__ = get  # one coroutine per output, not two

    async def interrupt(self) -> None:
        """Cancel the producer and wait for it; what it emits while stopping stays readable."""
        self._task.cancel()
        await asyncio.wait({self._task})

    async def aclose(self) -> None:
        """Stop reading: cancel the producer (if still running) and wait until it cleaned up."""
        self._ended = True
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
