"""The server process's garbage collector, settled once start-up is over.

Start-up (vLLM, torch, transformers, the engine client, templates) leaves a few hundred
thousand long-lived objects. CPython's collector walks them again at every full collection,
and with its default first threshold (700 allocations) a swarm of a thousand sub-agents
triggers young collections every few steps, each promoting work towards those full ones.
Once the engine is up we collect, freeze what is left (it is never scanned again; vLLM's
engine core does the same after its own start-up) and raise the first threshold: cyclic
garbage waits a little longer, the event loop spends far less time collecting. Measured in
`benchmarks/swarm_scheduler.py` (see the README).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from server.app import OnReady
from server.context import AppContext

log = logging.getLogger("kimi_swarm.heap")

# Allocations (net) between young collections; CPython's default is 700.
YOUNG_THRESHOLD = 10_000


def settle_heap() -> None:
    """Collect, freeze the survivors, and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_THRESHOLD), middle, old)
    log.info("heap settled: %d objects frozen", gc.get_freeze_count())


def settled(on_ready: OnReady) -> OnReady:
    """`on_ready`, then `settle_heap` before the first request is served."""

    @asynccontextmanager
    async def hook(ctx: AppContext) -> AsyncIterator[None]:
        async with on_ready(ctx):
            settle_heap()
            yield

    return hook
