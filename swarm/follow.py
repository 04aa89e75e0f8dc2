"""Following a run's events: what the store holds, then live ones, until the run's closing event.

The follower subscribes to the bus *before* it reads the store, and the bus only carries
committed events, so every event is either in that read or arrives on the bus afterwards: none
is missed when a run ends while a follower attaches. Each wake-up handles only the batches that
arrived (O(new events)); a gap (news of events this process did not publish) is read back from
the store after the last sequence seen. When nothing arrives for `idle_s`, the store is asked
directly, which also ends a follow whose run stopped without a closing event reaching us.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator

from swarm.bus import events_topic
from swarm.events import TERMINAL
from swarm.ledger import RunStatus
from swarm.store import RunStore
from tools.base import Json


async def follow(
    store: RunStore, run_id: str, after: int = -1, *, idle_s: float = 2.0
) -> AsyncGenerator[Json, None]:
    """Events of `run_id` with sequence number > `after`, live, until the run closes."""
    topic = events_topic(run_id)
    inbox: deque[list[Json]] = deque()
    wake = asyncio.Event()

    def deliver(batch: list[Json]) -> None:
        inbox.append(batch)
        wake.set()

    with store.bus.listen(topic, deliver):
        batch = await store.events(run_id, after=after)
        while True:
            for event in batch:
                seq = event["sequence_number"]
                if seq <= after:
                    continue  # published and also read from the store
                after = seq
                yield event
                if event["type"] in TERMINAL and event is batch[-1]:
                    return  # (a resumed run has later events: its earlier end is not the end)
            store.bus.advance(topic, after)
            try:
                async with asyncio.timeout(idle_s):
                    await wake.wait()
            except TimeoutError:
                batch = await store.events(run_id, after=after)
                if not batch and not await _running(store, run_id):
                    return
                continue
            wake.clear()
            batch = [event for news in inbox for event in news]
            inbox.clear()
            if batch and batch[0]["sequence_number"] > after + 1:
                batch = await store.events(run_id, after=after)


async def _running(store: RunStore, run_id: str) -> bool:
    record = await store.get(run_id)
    return record is not None and record["status"] == RunStatus.RUNNING
