"""The server settles its heap once the engine and swarm are up: start-up's objects frozen,
young collections rarer."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest

from server.boot.heap import YOUNG_THRESHOLD, settled
from server.context import AppContext


@pytest.fixture
def gc_state() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


async def test_the_heap_is_settled_after_the_ready_hook_entered(gc_state: None) -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    seen: list[tuple[str, int]] = []

    @asynccontextmanager
    async def on_ready(_: AppContext) -> AsyncIterator[None]:
        seen.append(("entered", gc.get_freeze_count()))
        yield
        seen.append(("left", gc.get_freeze_count()))

    async with settled(on_ready)(object()):  # type: ignore[arg-type]
        serving = gc.get_freeze_count(), gc.get_threshold()
    assert seen[0] == ("entered", 0)  # the swarm and engine objects exist before the freeze
    assert serving[0] > 0 and serving[1] == (YOUNG_THRESHOLD, 10, 10)
    assert seen[1][0] == "left"
