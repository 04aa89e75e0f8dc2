"""Transient engine failures are retried inside one step, with capped, jittered back-off.

Transient: the backend is down or overloaded (`EngineUnavailable`: connect errors, read
timeouts, 429/5xx, a stream cut before its end) or the OS reports a broken connection.
Everything else (a request the engine rejects, our own bug) fails at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from swarm import metrics
from swarm.errors import EngineUnavailable

log = logging.getLogger("kimi_swarm.swarm")
T = TypeVar("T")
TRANSIENT: tuple[type[BaseException], ...] = (EngineUnavailable, ConnectionError, TimeoutError)


@dataclass(slots=True, frozen=True)
class RetryPolicy:
    retries: int = 2
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0

    def delay(self, attempt: int) -> float:
        """Exponential back-off with jitter in [50 %, 100 %] of the step."""
        base = min(self.backoff_s * (2**attempt), self.max_backoff_s)
        return base * (0.5 + random.random() / 2)


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    what: str,
    deadline: float | None = None,
    failed: BaseException | None = None,
) -> T:
    """`call()`, again after each transient failure, until it succeeds or retries run out.

    A retry that could not start before `deadline` (event-loop time) is not attempted.
    `failed`: the first attempt was made by the caller and failed so (the hot path tries once
    without this machinery).
    """
    loop = asyncio.get_running_loop()
    attempt = 0
    while True:
        if failed is None:
            try:
                return await call()
            except TRANSIENT as exc:
                failed = exc
        wait = policy.delay(attempt)
        late = deadline is not None and loop.time() + wait >= deadline
        if attempt == policy.retries or late:
            raise failed
        metrics.ENGINE_RETRIES.inc()
        log.warning("%s: %s: %s; retry %d in %.2f s", what, type(failed).__name__, failed,
                    attempt + 1, wait)  # fmt: skip
        await asyncio.sleep(wait)
        attempt, failed = attempt + 1, None
