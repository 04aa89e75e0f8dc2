"""The search provider interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(slots=True, frozen=True)
class SearchHit:
    title: str
    url: str
    snippet: str
    score: float | None = None


@runtime_checkable
class SearchProvider(Protocol):
    """Answers a query with at most `k` hits, best first; raises `ToolError` on failure."""

    name: str

    async def search(self, query: str, k: int) -> list[SearchHit]: ...
