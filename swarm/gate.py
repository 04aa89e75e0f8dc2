"""A server-wide cap on concurrent engine calls, shared fairly across runs.

Waiters queue per run; each freed slot goes to the run at the head of the rotation, which
then moves to the back. A run with a hundred queued calls cannot starve a run with one:
every waiting run gets a slot within one rotation.
"""

from __future__ import annotations

import asyncio
from collections import deque

from swarm import metrics


class FairGate:
    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.capacity = capacity
        self.busy = 0
        # run id -> its waiters, oldest first; dict order is the rotation.
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}

    @property
    def waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    def take(self) -> bool:
        """Take a free slot at once if there is one and nobody queues (the hot path: no await);
        False: call `acquire`. Either way, `release` gives it back."""
        if self.busy < self.capacity and not self._waiting:
            self.busy += 1
            return True
        return False

    async def acquire(self, owner: str) -> None:
        """Wait (fairly, by `owner`) for a slot."""
        if self.take():
            return
        ticket: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(owner, deque()).append(ticket)
        metrics.ENGINE_CALLS_WAITING.inc()
        try:
            await ticket
        except asyncio.CancelledError:
            if ticket.done() and not ticket.cancelled():
                self.release()  # handed a slot just as we were cancelled: pass it on
            else:
                self._forget(owner, ticket)
            raise
        finally:
            metrics.ENGINE_CALLS_WAITING.dec()

    def _forget(self, owner: str, ticket: asyncio.Future[None]) -> None:
        queue = self._waiting.get(owner)
        if queue is not None and ticket in queue:
            queue.remove(ticket)
            if not queue:
                del self._waiting[owner]

    def release(self) -> None:
        """Hand the slot to the next run in the rotation, or free it."""
        while self._waiting:
            owner = next(iter(self._waiting))
            queue = self._waiting.pop(owner)
            ticket = queue.popleft()
            if queue:
                self._waiting[owner] = queue  # to the back of the rotation
            if not ticket.done():
                ticket.set_result(None)  # the slot moves over; `busy` is unchanged
                return
        self.busy -= 1
