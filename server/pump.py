"""Run an async generator in one task of its own and hand its items over a bounded queue.

Why: the sources here (engine streams, swarm runs) hold task groups and timeouts
that must stay bound to a single task, while their consumer (an HTTP handler, then a
streaming response) may change tasks and needs idle timeouts for heartbeats.
Closing the pump cancels that task, which closes the source (aborting engine work).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(slots=True)
class _End:
    error: BaseException | None = None


class Pump(Generic[T]):
    def __init__(self, source: AsyncIterator[T], *, maxsize: int = 64) -> None:
        self._source = source
        self._queue: asyncio.Queue[T | _End] = asyncio.Queue(maxsize=maxsize)
        self._task = asyncio.create_task(self._run())
        self._ended = False

    async def _run(self) -> None:
        try:
            async for item in self._source:
                await self._queue.put(item)
            await self._queue.put(_End())
        except Exception as exc:  # re-raised in the consumer by get()
            await self._queue.put(_End(exc))
        finally:
            aclose = getattr(self._source, "aclose", None)
            if aclose is not None:
                await aclose()

    async def get(self, idle_s: float | None = None) -> T:
        """Next item; `StopAsyncIteration` at the end, `TimeoutError` when idle, or the source's error."""
        if self._ended:
            raise StopAsyncIteration
        try:
            item = self._queue.get_nowait()  # the hot path: no timer, no extra task
        except asyncio.QueueEmpty:
            async with asyncio.timeout(idle_s):
                item = await self._queue.get()
        if isinstance(item, _End):
            self._ended = True
            if item.error is not None:
                raise item.error
            raise StopAsyncIteration
        return item

    async def items(self, idle_s: float) -> AsyncIterator[T | None]:
        """The remaining items, with a None each time the source is idle for `idle_s`."""
        while True:
            try:
                yield await self.get(idle_s)
            except TimeoutError:
                yield None
            except StopAsyncIteration:
                return

    def __aiter__(self) -> Pump[T]:
        return self

    async def __anext__(self) -> T:
        return await self.get()

    async def aclose(self) -> None:
        """Cancel the source (if still running) and wait until it has cleaned up."""
        self._ended = True
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
