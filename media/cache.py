"""A byte-bounded LRU keyed by content hash, shared by threads."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


def content_key(data: bytes, *parts: object) -> str:
    """sha256 of the bytes, plus any settings that change the result."""
    digest = hashlib.sha256(data).hexdigest()
    return digest if not parts else digest + ":" + ":".join(map(str, parts))


class LruCache(Generic[V]):
    """Keeps the most recently used values whose `sizeof` sums to at most `max_bytes`."""

    def __init__(self, max_bytes: int, sizeof: Callable[[V], int]) -> None:
        self._max = max_bytes
        self._sizeof = sizeof
        self._items: OrderedDict[str, tuple[V, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> V | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: str, value: V) -> None:
        size = self._sizeof(value)
        if size > self._max:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._total -= old[1]
            self._items[key] = (value, size)
            self._total += size
            while self._total > self._max:
                _, (_, evicted) = self._items.popitem(last=False)
                self._total -= evicted

    def get_or_make(self, key: str, make: Callable[[], V]) -> V:
        """Cached value, or `make()` stored (concurrent misses may both compute)."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    def __len__(self) -> int:
        return len(self._items)
