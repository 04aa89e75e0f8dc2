"""The event bus: committed run events and control messages, fanned out to this process's listeners.

The store's writer (a thread) and, on PostgreSQL, the NOTIFY listener (another thread) publish;
listeners live on event loops. A topic is a string (`events:<run_id>`, `cancel:<run_id>`).
Publishing hands each listener its payload on its own loop; nothing is queued for a topic that
has no listener, so a follower subscribes first and then reads what the store already holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tools.base import Json

Listener = Callable[[Any], None]


def events_topic(run_id: str) -> str:
    return f"events:{run_id}"


def cancel_topic(run_id: str) -> str:
    return f"cancel:{run_id}"


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[str, list[tuple[asyncio.AbstractEventLoop, Listener]]] = {}
        # Highest sequence number published per followed run (the listener thread skips older).
        self._published: dict[str, int] = {}

    @contextmanager
    def listen(self, topic: str, listener: Listener) -> Iterator[None]:
        """Call `listener(payload)` on the caller's loop for each publish on `topic`, while open."""
        entry = (asyncio.get_running_loop(), listener)
        with self._lock:
            self._listeners.setdefault(topic, []).append(entry)
        try:
            yield
        finally:
            with self._lock:
                entries = self._listeners.get(topic, [])
                entries.remove(entry)
                if not entries:
                    del self._listeners[topic]
                    self._published.pop(topic, None)

    def has_listeners(self, topic: str) -> bool:
        with self._lock:
            return topic in self._listeners

    def published(self, topic: str) -> int:
        """The last sequence number published on an events topic (-1: none yet)."""
        with self._lock:
            return self._published.get(topic, -1)

    def advance(self, topic: str, seq: int) -> None:
        """A follower read the store up to `seq`: news of older events needs no fetching."""
        with self._lock:
            if topic in self._listeners:
                self._published[topic] = max(self._published.get(topic, -1), seq)

    def publish_events(self, run_id: str, events: list[Json]) -> None:
        """Committed events of one run, in sequence order; safe from any thread."""
        if not events:
            return
        topic = events_topic(run_id)
        with self._lock:
            if topic in self._listeners:
                last = self._published.get(topic, -1)
                self._published[topic] = max(last, events[-1]["sequence_number"])
        self.publish(topic, events)

    def publish(self, topic: str, payload: Any) -> None:
        with self._lock:
            entries = list(self._listeners.get(topic, ()))
        for loop, listener in entries:
            if loop.is_closed():
                continue
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                listener(payload)
            else:
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(listener, payload)
