"""Admission control for runs: up to `max_runs` run at once, `max_queued` wait, the rest get 429.

`Retry-After` is an estimate: the queue ahead divided by the run slots, times the recent
mean run duration (at least 1 s, at most 60 s).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from swarm import metrics
from swarm.errors import Overloaded


class Admission:
    def __init__(self, max_runs: int, max_queued: int) -> None:
        if max_runs <= 0 or max_queued < 0:
            raise ValueError("max_runs must be positive and max_queued >= 0")
        self.max_runs = max_runs
        self.max_queued = max_queued
        self.running = 0
        self.queued = 0
        self._slots = asyncio.Semaphore(max_runs)
        self._mean_s = 1.0  # exponentially weighted mean run duration

    @asynccontextmanager
    async def enter(self) -> AsyncIterator[None]:
        """Run the body once a run slot is free; `Overloaded` when the queue is full too."""
        if self._slots.locked() and self.queued >= self.max_queued:
            metrics.RUNS_REJECTED.inc()
            raise Overloaded(
                f"the server is running {self.running} swarm runs and {self.queued} more wait; "
                "retry later",
                retry_after_s=self.retry_after_s(),
            )
        self.queued += 1
        metrics.RUNS_QUEUED.inc()
        try:
            await self._slots.acquire()
        finally:
            self.queued -= 1
            metrics.RUNS_QUEUED.dec()
        self.running += 1
        start = time.monotonic()
        try:
            yield
        finally:
            self.running -= 1
            self._slots.release()
            self._mean_s = 0.8 * self._mean_s + 0.2 * (time.monotonic() - start)

    def retry_after_s(self) -> int:
        waves = (self.queued + 1) / self.max_runs
        return int(min(60, max(1, math.ceil(waves * self._mean_s))))
